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
    return model.model_dump(mode="json")


def validate_geometry(layer: LayerSpec, geojson: object) -> BaseGeometry:
    """Return a valid shapely geometry of the layer's kind, or raise InvalidGeometryError with the reason."""
    try:
        return parse_geometry(geojson, expected=layer.geometry)
    except GeometryError as exc:
        raise InvalidGeometryError(exc.reason, exc.reason_id, reason=exc.code) from None
