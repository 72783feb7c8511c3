"""Query layers: spatial questions declared once and served like stored layers."""
