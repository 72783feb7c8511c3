"""What lies in an area: every asset of chosen layers inside a response area, a district or a polygon."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, DateTime, Select, String, false, func, literal, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from geo.crs import AMBON_UTM_SRID
from geo.kinds import GeometryKind
from layers.access.policy import Principal, readable_layers
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec, Storage, Style, Titles
from layers.errors import InvalidInput
from layers.features.queryables import stale_expression
from layers.queries.params import Names, ParamError, param, readable_named_layers
from layers.queries.places import (
    AreaIdField,
    DistrictField,
    GeometryField,
    Place,
    may_read_layer,
    resolve_place,
)
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec
from layers.tables import asset_status, assets

COLUMNS = (
    QueryColumn("layer", "string", Titles("Lapisan", "Layer")),
    QueryColumn("layer_title", "string", Titles("Nama lapisan", "Layer title")),
    QueryColumn("name", "string", Titles("Nama", "Name")),
    QueryColumn("external_id", "string", Titles("Id eksternal", "External id")),
    QueryColumn("status", "string", Titles("Status", "Status")),
    QueryColumn("observed_at", "datetime", Titles("Waktu laporan", "Reported at")),
    QueryColumn("stale", "boolean", Titles("Basi", "Stale")),
)


class InAreaParams(AreaIdField, DistrictField, GeometryField):
    """An area (response area, district or village, or a posted polygon) and the layers to look in."""

    layers: Names | None = param(
        None,
        "Lapisan (dipisah koma; bawaan: semua lapisan berstatus)",
        "Layers (comma-separated; default: every layer with live status)",
    )

    @field_validator("geometry")
    @classmethod
    def _geometry_is_an_area(cls, value: BaseGeometry | None) -> BaseGeometry | None:
        if value is not None and value.geom_type not in ("Polygon", "MultiPolygon"):
            raise ParamError("geometry must be a polygon", "geometri harus poligon")
        return value


def is_point_asset_layer(layer: LayerSpec) -> bool:
    """Return whether a layer's features are point assets (the answer declares point geometry)."""
    return layer.storage is Storage.ASSETS and layer.geometry is GeometryKind.POINT


def chosen_layers(principal: Principal, names: tuple[str, ...] | None) -> list[LayerSpec]:
    """Return the layers to look in: the named ones, or every readable point layer with live status."""
    if names is None:
        return [s for s in readable_layers(principal) if is_point_asset_layer(s) and s.has_status]
    chosen = readable_named_layers(principal, names)
    for layer in chosen:
        if not is_point_asset_layer(layer):
            raise InvalidInput(
                f"layers: {layer.id!r} is not a layer of point assets",
                f"layers: {layer.id!r} bukan lapisan aset titik",
                parameter="layers",
            )
    return chosen


def _layer_rows(layer: LayerSpec, place: Place, now: ColumnElement[Any]) -> Select[Any]:
    """Return the assets of one layer that intersect the place (one branch per layer keeps the index)."""
    live = layer.status is not None
    status = asset_status.c.status if live else literal(None, String)
    observed_at = asset_status.c.observed_at if live else literal(None, DateTime(timezone=True))
    stale = stale_expression(layer, asset_status.c.observed_at, now) if live else literal(None, Boolean)
    return (
        select(
            assets.c.id.label("id"),
            assets.c.geom.label("geom"),
            literal(layer.id, String).label("layer"),
            literal(layer.title.id, String).label("layer_title"),
            assets.c.name.label("name"),
            assets.c.external_id.label("external_id"),
            status.label("status"),
            observed_at.label("observed_at"),
            stale.label("stale"),
        )
        .select_from(assets.outerjoin(asset_status, asset_status.c.asset_id == assets.c.id))
        .where(assets.c.layer_id == layer.id, func.ST_Intersects(assets.c.geom, place.geom))
    )


def build(ctx: QueryContext, params: InAreaParams) -> QueryAnswer:
    """Return the assets of the chosen layers inside the area."""
    layers = chosen_layers(ctx.principal, params.layers)
    place = resolve_place(ctx, params)
    now = literal(ctx.now, DateTime(timezone=True))
    branches = [_layer_rows(layer, place, now) for layer in layers]
    if not branches:
        # A caller scoped away from every live layer still gets the answer's shape, with no rows.
        branches = [_layer_rows(LAYERS["cctv"], place, now).where(false())]
    rows = union_all(*branches).subquery("in_area")
    return QueryAnswer(select(*rows.c), COLUMNS)


def summary(ctx: QueryContext, params: InAreaParams) -> dict[str, Any]:
    """Return per-layer counts (by status, stale) of the answer, and the area's size and districts."""
    layers = chosen_layers(ctx.principal, params.layers)
    rows = build(ctx, params).statement.subquery("answer")
    counted = ctx.conn.execute(
        select(rows.c.layer, rows.c.status, rows.c.stale, func.count().label("n")).group_by(
            rows.c.layer, rows.c.status, rows.c.stale
        )
    ).all()
    per_layer = [_layer_summary(layer, [r for r in counted if r.layer == layer.id]) for layer in layers]
    return {
        "layers": per_layer,
        "total": sum(entry["count"] for entry in per_layer),
        "area": _area_summary(ctx, resolve_place(ctx, params)),
    }


def _layer_summary(layer: LayerSpec, counted: list[Any]) -> dict[str, Any]:
    by_status: dict[str, int] = dict.fromkeys(layer.status.values if layer.status else (), 0)
    for row in counted:
        if row.status is not None:
            by_status[row.status] = by_status.get(row.status, 0) + int(row.n)
    return {
        "layer": layer.id,
        "title": {"id": layer.title.id, "en": layer.title.en},
        "count": sum(int(r.n) for r in counted),
        "by_status": by_status,
        "no_status": sum(int(r.n) for r in counted if r.status is None),
        "stale": sum(int(r.n) for r in counted if r.stale),
    }


def _area_summary(ctx: QueryContext, place: Place) -> dict[str, Any]:
    area_m2 = ctx.conn.execute(select(func.ST_Area(func.ST_Transform(place.geom, AMBON_UTM_SRID)))).scalar()
    out: dict[str, Any] = {"area_ha": round(float(area_m2 or 0.0) / 10_000, 4)}
    if may_read_layer(ctx.principal, "districts"):
        out["districts"] = list(ctx.conn.scalars(_overlapping("districts", place, assets.c.name)))
    if may_read_layer(ctx.principal, "villages"):
        out["villages_touched"] = len(list(ctx.conn.scalars(_overlapping("villages", place, assets.c.id))))
    return out


def _overlapping(layer_id: str, place: Place, column: ColumnElement[Any]) -> Select[Any]:
    """Return `column` of the polygons whose interior the area overlaps (a shared border is not a touch)."""
    return (
        select(column)
        .where(
            assets.c.layer_id == layer_id,
            func.ST_Intersects(assets.c.geom, place.geom),
            ~func.ST_Touches(assets.c.geom, place.geom),
        )
        .order_by(column)
    )


_LAYER_COLOURS = {s.id: s.style.color for s in LAYERS.values() if is_point_asset_layer(s)}

QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec(
        id="in_area",
        title=Titles("Aset di dalam area", "Assets in an area"),
        description=Titles(
            "Semua aset lapisan terpilih di dalam area tanggap bencana, kecamatan/kelurahan atau poligon.",
            "Every asset of the chosen layers inside a response area, a district or village, or a polygon.",
        ),
        owner="bpbd",
        geometry=GeometryKind.POINT,
        params=InAreaParams,
        build=build,
        style=Style(color="#d84315", by_status=_LAYER_COLOURS),
        style_attribute="layer",
        labels={s.id: s.title for s in LAYERS.values() if is_point_asset_layer(s)},
        summary=summary,
        time_limit_s=15.0,
    ),
)
