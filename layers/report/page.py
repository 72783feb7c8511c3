"""The situation report as one self-contained HTML page (folium), with Leaflet inlined: no CDN."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import folium
from branca.element import Element, Figure

from geo.kinds import GeometryKind
from layers.catalog.spec import LayerSpec
from layers.report.situation import ReportLayer, Situation

TEXTS = {
    "title": ("Laporan situasi", "Situation report"),
    "generated": ("Dibuat", "Generated"),
    "by": ("oleh", "by"),
    "area": ("Area", "Area"),
    "view": ("Tampilan peta", "Map view"),
    "layer": ("Lapisan", "Layer"),
    "status": ("Status", "Status"),
    "count": ("Jumlah", "Count"),
    "stale": ("Tanpa laporan terbaru", "No recent report"),
    "total": ("Total", "Total"),
    "truncated": ("hanya sebagian fitur digambar", "only part of the features is drawn"),
    "public": ("publik (tanpa masuk)", "the public (not signed in)"),
}

_STYLE = """<style>
body{font-family:system-ui,sans-serif;margin:0;color:#222}
.kd-head{padding:.75rem 1rem;background:#0d47a1;color:#fff}.kd-head h1{margin:0;font-size:1.3rem}
.kd-head p{margin:.25rem 0 0}.kd-sum{padding:1rem}.kd-sum table{border-collapse:collapse}
.kd-sum td,.kd-sum th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
.kd-sw{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.4rem}
</style>"""


def _t(key: str, lang: str) -> str:
    id_, en = TEXTS[key]
    return en if lang == "en" else id_


def _status_label(layer: LayerSpec, status: str, lang: str) -> str:
    labels = layer.status.labels if layer.status else {}
    return labels[status].pick(lang) if status in labels else status


def _color(layer: LayerSpec, props: dict[str, Any]) -> str:
    if props.get("stale"):
        return layer.style.stale_color
    return layer.style.by_status.get(str(props.get("status")), layer.style.color)


def _labelled(layer: LayerSpec, feature: dict[str, Any], lang: str) -> dict[str, Any]:
    """Return the feature with an escaped tooltip text and its colour; nothing else goes to the page."""
    props = feature.get("properties") or {}
    text = str(props.get("name") or feature.get("id"))
    if props.get("status"):
        text += f" — {_status_label(layer, str(props['status']), lang)}"
    if props.get("stale"):
        text += f" ({_t('stale', lang).lower()})"
    label = {"label": escape(text), "color": _color(layer, props)}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": label}


def _add_layer(fmap: folium.Map, item: ReportLayer, lang: str) -> None:
    spec = item.spec
    collection = {"type": "FeatureCollection", "features": [_labelled(spec, f, lang) for f in item.features]}

    opacity = 0.8 if spec.geometry is GeometryKind.POINT else spec.style.fill_opacity

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        color = feature["properties"]["color"]
        return {"color": color, "fillColor": color, "weight": spec.style.line_width, "fillOpacity": opacity}

    # folium checks a tooltip's fields against the first feature: a layer with none is drawn without one.
    tooltip = folium.GeoJsonTooltip(fields=["label"], labels=False) if item.features else None
    folium.GeoJson(
        collection,
        name=escape(spec.title.pick(lang)),
        style_function=style,
        marker=folium.CircleMarker(radius=max(4.0, spec.style.radius), fill=True, weight=1),
        tooltip=tooltip,
    ).add_to(fmap)


def _summary_rows(item: ReportLayer, lang: str) -> str:
    spec, counts = item.spec, item.counts
    title = escape(spec.title.pick(lang)) + (f" <em>({_t('truncated', lang)})</em>" if item.truncated else "")
    rows = [
        (status, n, spec.style.by_status.get(status, spec.style.color))
        for status, n in counts.statuses.items()
    ]
    if spec.has_status:
        rows.append(("stale", counts.stale, spec.style.stale_color))
    rows.append(("total", counts.total, ""))
    out = []
    for i, (status, n, color) in enumerate(rows):
        head = f'<td rowspan="{len(rows)}">{title}</td>' if i == 0 else ""
        name = _t(status, lang) if status in ("stale", "total") else _status_label(spec, status, lang)
        swatch = f'<span class="kd-sw" style="background:{escape(color)}"></span>' if color else ""
        out.append(f"<tr>{head}<td>{swatch}{escape(name)}</td><td>{n}</td></tr>")
    return "".join(out)


def _header(s: Situation, lang: str, tz: str) -> str:
    when = s.generated_at.astimezone(ZoneInfo(tz)).strftime("%d-%m-%Y %H:%M")
    zone = "WIT" if tz == "Asia/Jayapura" else tz
    author = _t("public", lang) if s.author == "anonymous" else s.author
    where = (
        f"{_t('area', lang)}: {escape(str((s.area or {}).get('properties', {}).get('name', '')))}"
        if s.area
        else f"{_t('view', lang)}: {', '.join(f'{v:.4f}' for v in s.bbox)}"
    )
    return (
        f'<div class="kd-head"><h1>{_t("title", lang)}</h1><p>{where}</p>'
        f"<p>{_t('generated', lang)} {when} {zone} {_t('by', lang)} {escape(author)}</p></div>"
    )


def _summary(s: Situation, lang: str) -> str:
    head = f"<tr><th>{_t('layer', lang)}</th><th>{_t('status', lang)}</th><th>{_t('count', lang)}</th></tr>"
    body = "".join(_summary_rows(item, lang) for item in s.layers)
    return f'<div class="kd-sum"><table id="kd-summary">{head}{body}</table></div>'


def render_situation(s: Situation, lang: str, leaflet_js: str, leaflet_css: str, tz: str) -> str:
    """Return the report page; Leaflet's script and style are inlined so the file works offline."""
    west, south, east, north = s.bbox
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], tiles=None, height=560)
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    assert isinstance(root, Figure)  # noqa: S101 - a folium Map's root is always its Figure
    root.header.add_child(Element(f"<style>{leaflet_css}</style><script>{leaflet_js}</script>{_STYLE}"))
    root.html.add_child(Element(_header(s, lang, tz)), index=0)
    if s.area is not None:
        folium.GeoJson(
            s.area["geometry"],
            name=escape(_t("area", lang)),
            style_function=lambda _: {"color": "#d84315", "fillOpacity": 0.08},
        ).add_to(fmap)
    for item in s.layers:
        _add_layer(fmap, item, lang)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    root.html.add_child(Element(_summary(s, lang)))
    return str(root.render())


def report_filename(generated_at: datetime, tz: str) -> str:
    """Return a file name for a report made at `generated_at`, in the city's time."""
    return f"laporan-situasi-{generated_at.astimezone(ZoneInfo(tz)):%Y%m%d-%H%M}.html"
