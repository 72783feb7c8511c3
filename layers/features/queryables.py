"""The names a client may filter, sort and select on, each mapped to a vetted SQL expression."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, DateTime, Float, Integer, Table, func, literal
from sqlalchemy.sql.elements import ColumnElement as _Col

from layers.access.policy import FieldView
from layers.catalog.spec import LayerSpec, Storage
from layers.tables import asset_status, assets

KINDS = frozenset({"string", "number", "integer", "boolean", "datetime", "geometry"})
RESERVED = (
    "name",
    "external_id",
    "status",
    "status_value",
    "status_unit",
    "observed_at",
    "stale",
    "updated_at",
)

_JSON_TYPES = {"string": "string", "number": "number", "integer": "integer", "boolean": "boolean"}
_CASTS: dict[str, Any] = {
    "number": Float,
    "integer": Integer,
    "boolean": Boolean,
    "datetime": DateTime(timezone=True),
}


@dataclass(frozen=True, slots=True)
class Queryable:
    """A client-facing name: its SQL expression, its JSON kind, and its title."""

    expr: ColumnElement[Any]
    kind: str  # string | number | integer | boolean | datetime | geometry
    json: ColumnElement[Any] | None = None  # the value as it goes into a feature's properties

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown queryable kind {self.kind!r}")


def property_kinds(layer: LayerSpec) -> dict[str, str]:
    """Return each declared property's kind, read from the layer's JSON Schema."""
    schema = layer.properties.model_json_schema()
    out: dict[str, str] = {}
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        kind = "string"
        for option in options:
            if option.get("format") == "date-time":
                kind = "datetime"
                break
            if option.get("type") in _JSON_TYPES:
                kind = _JSON_TYPES[option["type"]]
                break
        out[name] = kind
    return out


def _property(table: Table, name: str, kind: str) -> Queryable:
    text_value = table.c.properties[name].astext
    expr = text_value if kind == "string" else text_value.cast(_CASTS[kind])
    return Queryable(expr=expr, kind=kind, json=table.c.properties[name])


def source_table(layer: LayerSpec) -> Table:
    """Return the table that holds a layer's features."""
    from layers.tables import areas

    return areas if layer.storage is Storage.AREAS else assets


def queryables(
    layer: LayerSpec, view: FieldView, status: Table | Any = asset_status
) -> Mapping[str, Queryable]:
    """Return the queryables a caller with `view` has on `layer` (hidden attributes are absent)."""
    table = source_table(layer)
    kinds = property_kinds(layer)
    out: dict[str, Queryable] = {
        "name": Queryable(table.c.name, "string", table.c.name),
        "external_id": Queryable(table.c.external_id, "string", table.c.external_id),
    }
    out.update({name: _property(table, name, kinds[name]) for name in view.properties})
    out["updated_at"] = Queryable(table.c.updated_at, "datetime", table.c.updated_at)
    if layer.status is not None:
        out["status"] = Queryable(status.c.status, "string", status.c.status)
        if view.status_value:
            out["status_value"] = Queryable(status.c.value, "number", status.c.value)
        out["status_unit"] = Queryable(status.c.unit, "string", status.c.unit)
        out["observed_at"] = Queryable(status.c.observed_at, "datetime", status.c.observed_at)
    out["geometry"] = Queryable(table.c.geom, "geometry")
    return out


def stale_expression(
    layer: LayerSpec, observed_at: ColumnElement[Any], now: ColumnElement[Any] | None = None
) -> _Col[Any]:
    """Return SQL that is true when the asset's last report is older than the layer's `stale_after`."""
    assert layer.status is not None  # noqa: S101 - only for live layers
    reference = now if now is not None else func.now()
    return observed_at.is_(None) | (observed_at < reference - literal(layer.status.stale_after))
