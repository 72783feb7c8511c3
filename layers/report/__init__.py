"""The situation report: its content (sections per layer) and its self-contained HTML page."""
