"""Within a distance and nearest: assets of a layer near a point or line, distances in metres."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import BigInteger, Float, Select, String, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from geo.kinds import GeometryKind
from layers.access.policy import Principal
from layers.catalog.spec import LayerSpec, Style, Titles
from layers.errors import InvalidInput
from layers.queries.catalog.in_area import is_point_asset_layer
from layers.queries.params import param, readable_named_layers
from layers.queries.places import AssetField, GeometryField, Place, PointField, resolve_place
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec
from layers.tables import asset_status, assets

_ROW_COLUMNS = (
    QueryColumn("layer", "string", Titles("Lapisan", "Layer")),
    QueryColumn("name", "string", Titles("Nama", "Name")),
    QueryColumn("external_id", "string", Titles("Id eksternal", "External id")),
    QueryColumn("status", "string", Titles("Status", "Status")),
    QueryColumn("distance_m", "number", Titles("Jarak", "Distance"), unit="m"),
)
RANK = QueryColumn("rank", "integer", Titles("Peringkat", "Rank"))


class WithinDistanceParams(PointField, GeometryField, AssetField):
    """A layer, a distance, and the point, line or asset to measure from."""

    layer: str = param(..., "Lapisan", "Layer", max_length=64)
    distance_m: float = param(300.0, "Jarak", "Distance", unit="m", ge=1, le=10_000)


class NearestParams(PointField, AssetField):
    """A layer, how many assets, an optional reach, and the point or asset to measure from."""

    layer: str = param(..., "Lapisan", "Layer", max_length=64)
    n: int = param(5, "Jumlah aset terdekat", "Number of nearest assets", ge=1, le=100)
    max_distance_m: float | None = param(
        None, "Jarak paling jauh", "Farthest distance", unit="m", ge=1, le=50_000
    )


def point_layer(principal: Principal, name: str) -> LayerSpec:
    """Return the named layer if the caller may read it and it holds point assets; else a 400."""
    layer = readable_named_layers(principal, (name,), parameter="layer")[0]
    if not is_point_asset_layer(layer):
        raise InvalidInput(
            f"layer: {name!r} is not a layer of point assets",
            f"layer: {name!r} bukan lapisan aset titik",
            parameter="layer",
        )
    return layer


def _geography(geom: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(geom, Geography)


def _distance_m(place: Place) -> ColumnElement[Any]:
    """Return the spheroid distance in metres from an asset to the place."""
    return func.ST_Distance(_geography(assets.c.geom), place.geography)


def _candidates(layer: LayerSpec, place: Place) -> list[ColumnElement[bool]]:
    """Return the filters every row obeys: the layer (first, for the index) and not the place itself."""
    out = [assets.c.layer_id == layer.id]
    if place.asset_id is not None:
        out.append(assets.c.id != literal(place.asset_id, BigInteger))
    return out


def _asset_rows(layer: LayerSpec, place: Place) -> Select[Any]:
    """Return the answer's columns for the assets of `layer`, unfiltered by distance."""
    status = asset_status.c.status if layer.status is not None else literal(None, String)
    return (
        select(
            assets.c.id.label("id"),
            assets.c.geom.label("geom"),
            literal(layer.id, String).label("layer"),
            assets.c.name.label("name"),
            assets.c.external_id.label("external_id"),
            status.label("status"),
            _distance_m(place).label("distance_m"),
        )
        .select_from(assets.outerjoin(asset_status, asset_status.c.asset_id == assets.c.id))
        .where(*_candidates(layer, place))
    )


def build_within_distance(ctx: QueryContext, params: WithinDistanceParams) -> QueryAnswer:
    """Return the assets of the layer within `distance_m` of the place."""
    layer = point_layer(ctx.principal, params.layer)
    place = resolve_place(ctx, params)
    statement = _asset_rows(layer, place).where(
        # The planar test in degrees uses the GiST index; the geography test makes it exact.
        func.ST_DWithin(assets.c.geom, place.geom, literal(place.degrees_for(params.distance_m), Float)),
        func.ST_DWithin(_geography(assets.c.geom), place.geography, literal(params.distance_m, Float)),
    )
    return QueryAnswer(statement, _ROW_COLUMNS)


def build_nearest(ctx: QueryContext, params: NearestParams) -> QueryAnswer:
    """Return the `n` assets of the layer nearest to the place, ranked by distance in metres."""
    layer = point_layer(ctx.principal, params.layer)
    place = resolve_place(ctx, params)
    reach_m = _reach_m(layer, place, params).scalar_subquery()
    reach_deg = select(place.degrees_for_sql(reach_m)).scalar_subquery()
    within = (
        _asset_rows(layer, place)
        # The same distance function as the KNN step, so the farthest candidate is never lost to rounding.
        .where(func.ST_DWithin(assets.c.geom, place.geom, reach_deg), _distance_m(place) <= reach_m)
        .subquery("within_reach")
    )
    rank = func.row_number().over(order_by=(within.c.distance_m, within.c.id)).label("rank")
    ranked = select(within, rank).subquery("ranked")
    statement = select(
        ranked.c.id, ranked.c.geom, ranked.c.rank, *(ranked.c[c.name] for c in _ROW_COLUMNS)
    ).where(ranked.c.rank <= literal(params.n, BigInteger))
    return QueryAnswer(statement, (RANK, *_ROW_COLUMNS))


def _reach_m(layer: LayerSpec, place: Place, params: NearestParams) -> Select[Any]:
    """Return the metres within which the `n` nearest assets surely lie.

    KNN (`<->`) on the GiST index orders by planar degrees, not metres; but its first `n` hits are
    `n` assets within their largest distance in metres, so the true `n` nearest are within it too.
    """
    knn = (
        select(_distance_m(place).label("distance_m"))
        .where(*_candidates(layer, place))
        .order_by(assets.c.geom.op("<->")(place.geom))
        .limit(literal(params.n, BigInteger))
        .cte("knn")
    )
    reach: ColumnElement[Any] = func.max(knn.c.distance_m)
    if params.max_distance_m is not None:
        reach = func.least(reach, literal(params.max_distance_m, Float))
    return select(reach)


_STYLE = Style(color="#00838f", radius=6)

QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec(
        id="within_distance",
        title=Titles("Aset dalam jarak", "Assets within a distance"),
        description=Titles(
            "Aset suatu lapisan dalam jarak tertentu (meter) dari titik, garis atau aset.",
            "Assets of a layer within a distance (metres) of a point, a line or an asset.",
        ),
        owner="bpbd",
        geometry=GeometryKind.POINT,
        params=WithinDistanceParams,
        build=build_within_distance,
        style=_STYLE,
    ),
    QuerySpec(
        id="nearest",
        title=Titles("Aset terdekat", "Nearest assets"),
        description=Titles(
            "N aset suatu lapisan yang paling dekat ke titik atau aset, berurutan menurut jarak (meter).",
            "The N assets of a layer nearest to a point or an asset, ranked by distance (metres).",
        ),
        owner="bpbd",
        geometry=GeometryKind.POINT,
        params=NearestParams,
        build=build_nearest,
        style=_STYLE,
    ),
)
