"""Checks on what clients write: a layer's properties against its schema, geometry against its kind."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from geo.validation import GeometryError, parse_geometry
from layers.catalog.spec import LayerSpec
from layers.errors import InvalidGeometryError, InvalidProperties


def validate_properties(layer: LayerSpec, data: object) -> dict[str, Any]:
    """Return properties normalised by the layer's schema, or raise InvalidProperties naming each field."""
    try:
        model = layer.properties.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(root)", "message": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        raise InvalidProperties(layer.id, errors) from None
    dumped = model.model_dump(mode="json")
    with_nul = [name for name, value in dumped.items() if _holds_nul(value)]
    if with_nul:  # PostgreSQL cannot store U+0000 in text or jsonb
        raise InvalidProperties(
            layer.id, [{"field": name, "message": "text may not contain NUL (U+0000)"} for name in with_nul]
        )
    return dumped


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def validate_geometry(layer: LayerSpec, geojson: object) -> BaseGeometry:
    """Return a valid shapely geometry of the layer's kind, or raise InvalidGeometryError with the reason."""
    try:
        return parse_geometry(geojson, expected=layer.geometry)
    except GeometryError as exc:
        raise InvalidGeometryError(exc.reason, exc.reason_id, reason=exc.code) from None
