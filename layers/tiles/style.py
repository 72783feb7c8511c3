"""MapLibre sources and style layers for kendali's vector tiles, drawn in each layer's declared Style."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from geo.kinds import GeometryKind
from layers.catalog.spec import LayerSpec, Style

MAX_SOURCE_ZOOM = 22
# Cluster features at low zoom carry `point_count` (`count` in older tiles); circles grow with it.
CLUSTER_GROWTH = ((1, 1.0), (10, 1.6), (100, 2.3), (1000, 3.0), (10000, 3.6))
COUNT_PROPERTIES = ("point_count", "count")
_DRAW_ORDER = {GeometryKind.POLYGON: 0, GeometryKind.LINE: 1, GeometryKind.POINT: 2}

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Overlay:
    """The part of a style that draws the caller's layers."""

    sources: dict[str, Json] = field(default_factory=dict)
    layers: list[Json] = field(default_factory=list)
    legend: list[Json] = field(default_factory=list)


def source_id(layer_id: str) -> str:
    """Return the style source id of a layer's vector tiles."""
    return f"kendali-{layer_id}"


def vector_tiles_url(base_url: str, layer_id: str) -> str:
    """Return the XYZ template of a layer's vector tiles."""
    return f"{base_url}/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt"


def vector_source(spec: LayerSpec, base_url: str) -> Json:
    """Return the MapLibre vector source of a layer."""
    return {
        "type": "vector",
        "tiles": [vector_tiles_url(base_url, spec.id)],
        "minzoom": spec.min_zoom,
        "maxzoom": min(spec.max_zoom, MAX_SOURCE_ZOOM),
    }


def color_expression(spec: LayerSpec) -> str | list[Any]:
    """Return the colour: by `status` with a `match`, the stale colour when `stale` is true."""
    style = spec.style
    if spec.status is None:
        return style.color
    color: str | list[Any] = style.color
    if style.by_status:
        pairs = [item for status, hex_ in style.by_status.items() for item in (status, hex_)]
        color = ["match", ["get", "status"], *pairs, style.color]
    return ["case", ["==", ["get", "stale"], True], style.stale_color, color]


def circle_radius(style: Style) -> list[Any]:
    """Return the circle radius: the declared one, growing with the count on cluster features."""
    stops = [value for count, scale in CLUSTER_GROWTH for value in (count, style.radius * scale)]
    cases: list[Any] = ["case"]
    for name in COUNT_PROPERTIES:
        cases += [["has", name], ["interpolate", ["linear"], ["get", name], *stops]]
    return [*cases, style.radius]


def style_layers(spec: LayerSpec, lang: str) -> list[Json]:
    """Return the style layers that draw one layer."""
    color = color_expression(spec)
    common = _common(spec, lang)
    if spec.geometry is GeometryKind.POINT:
        paint = {
            "circle-color": color,
            "circle-radius": circle_radius(spec.style),
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1,
        }
        return [{**common, "id": f"{spec.id}-circle", "type": "circle", "paint": paint}]
    outline = {
        **common,
        "id": f"{spec.id}-line",
        "type": "line",
        "layout": {"line-cap": "round", "line-join": "round"},
        "paint": {"line-color": color, "line-width": spec.style.line_width},
    }
    if spec.geometry is GeometryKind.LINE:
        return [outline]
    fill = {
        **common,
        "id": f"{spec.id}-fill",
        "type": "fill",
        "paint": {"fill-color": color, "fill-opacity": spec.style.fill_opacity},
    }
    return [fill, outline]


def legend_entry(spec: LayerSpec, lang: str, layer_ids: Sequence[str]) -> Json:
    """Return a layer's legend: its localised title, colours by status and the stale colour."""
    entry: Json = {
        "id": spec.id,
        "title": spec.title.pick(lang),
        "geometry": spec.geometry.value,
        "source": source_id(spec.id),
        "style_layers": list(layer_ids),
        "color": spec.style.color,
    }
    if spec.status is not None:
        entry["statuses"] = [
            {
                "status": value,
                "label": spec.status.labels[value].pick(lang),
                "color": _status_color(spec, value),
            }
            for value in spec.status.values
        ]
        entry["stale_color"] = spec.style.stale_color
    return entry


def overlay(specs: Sequence[LayerSpec], base_url: str, lang: str) -> Overlay:
    """Return the sources, style layers and legend of the given layers: areas below lines below points."""
    result = Overlay()
    for spec in sorted(specs, key=lambda s: _DRAW_ORDER[s.geometry]):
        layers = style_layers(spec, lang)
        result.sources[source_id(spec.id)] = vector_source(spec, base_url)
        result.layers.extend(layers)
        result.legend.append(legend_entry(spec, lang, [layer["id"] for layer in layers]))
    return result


def _common(spec: LayerSpec, lang: str) -> Json:
    common: Json = {
        "source": source_id(spec.id),
        "source-layer": spec.id,
        "metadata": {"kendali:layer": spec.id, "kendali:title": spec.title.pick(lang)},
    }
    if spec.min_zoom > 0:
        common["minzoom"] = spec.min_zoom
    return common


def _status_color(spec: LayerSpec, status: str) -> str:
    return spec.style.by_status.get(status, spec.style.color)
