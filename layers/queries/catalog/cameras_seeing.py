"""Cameras that see a place: CCTV whose field of view covers a point or touches an area."""

from __future__ import annotations

from geoalchemy2 import Geography
from sqlalchemy import DateTime, cast, false, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from geo.kinds import GeometryKind
from layers.access.policy import Action, Principal, allows, field_view
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec, Titles
from layers.features.queryables import Queryable, queryables, stale_expression
from layers.queries.places import (
    AreaIdField,
    AssetField,
    DistrictField,
    GeometryField,
    Place,
    PointField,
    resolve_place,
)
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec
from layers.tables import asset_status, assets

CCTV = "cctv"
SKIPPED_PROPERTIES = ("camera_id",)  # the same value as external_id
_FIXED_COLUMNS = (
    QueryColumn("name", "string", Titles("Nama", "Name")),
    QueryColumn("external_id", "string", Titles("Id eksternal", "External id")),
    QueryColumn("status", "string", Titles("Status", "Status")),
    QueryColumn("stale", "boolean", Titles("Basi", "Stale")),
    QueryColumn("distance_m", "number", Titles("Jarak ke tempat", "Distance to the place"), unit="m"),
)
_PROPERTY_TITLES = {
    "location": Titles("Lokasi", "Location"),
    "stream_url": Titles("Alamat siaran", "Stream URL"),
    "view_direction_deg": Titles("Arah pandang", "View direction"),
    "fov_deg": Titles("Sudut pandang", "Field of view"),
    "range_m": Titles("Jangkauan", "Range"),
    "ptz": Titles("PTZ", "PTZ"),
}
_PROPERTY_UNITS = {"view_direction_deg": "°", "fov_deg": "°", "range_m": "m"}


class CamerasSeeingParams(PointField, GeometryField, AreaIdField, DistrictField, AssetField):
    """The place to look at: a point or asset (covered), or an area or geometry (touched)."""


def _sees(place: Place) -> ColumnElement[bool]:
    """Return the test on a camera's field of view: covers a point, intersects anything larger."""
    if place.dimension == 0:
        return func.ST_Covers(assets.c.footprint, place.geom)
    return func.ST_Intersects(assets.c.footprint, place.geom)


def _shown_properties(principal: Principal, layer: LayerSpec) -> list[tuple[QueryColumn, Queryable]]:
    """Return the camera properties the caller may see, as answer columns with their SQL."""
    view = field_view(principal, layer)
    qs = queryables(layer, view)
    names = [name for name in view.properties if name not in SKIPPED_PROPERTIES]
    return [(_property_column(name, qs[name].kind), qs[name]) for name in names]


def _property_column(name: str, kind: str) -> QueryColumn:
    title = _PROPERTY_TITLES.get(name, Titles(name, name))
    return QueryColumn(name, kind, title, _PROPERTY_UNITS.get(name))


def build(ctx: QueryContext, params: CamerasSeeingParams) -> QueryAnswer:
    """Return the cameras whose field of view covers or touches the place."""
    layer = LAYERS[CCTV]
    place = resolve_place(ctx, params)
    shown = _shown_properties(ctx.principal, layer)
    now = literal(ctx.now, DateTime(timezone=True))
    distance = func.ST_Distance(cast(assets.c.geom, Geography), place.geography)
    statement = (
        select(
            assets.c.id.label("id"),
            assets.c.geom.label("geom"),
            assets.c.name.label("name"),
            assets.c.external_id.label("external_id"),
            asset_status.c.status.label("status"),
            stale_expression(layer, asset_status.c.observed_at, now).label("stale"),
            distance.label("distance_m"),
            *(q.expr.label(column.name) for column, q in shown),
        )
        .select_from(assets.outerjoin(asset_status, asset_status.c.asset_id == assets.c.id))
        .where(assets.c.layer_id == layer.id, _sees(place))
    )
    if not allows(ctx.principal, Action.READ, layer):
        statement = statement.where(false())
    return QueryAnswer(statement, (*_FIXED_COLUMNS, *(column for column, _ in shown)))


_STATUS = LAYERS[CCTV].status
_STATUS_LABELS = dict(_STATUS.labels) if _STATUS is not None else {}

QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec(
        id="cameras_seeing",
        title=Titles("Kamera yang melihat tempat", "Cameras that see a place"),
        description=Titles(
            "Kamera CCTV yang sudut pandangnya mencakup titik atau menyentuh area (kejadian, TPS, ...).",
            "CCTV cameras whose field of view covers a point or touches an area (an incident, a TPS, ...).",
        ),
        owner=LAYERS[CCTV].owner,
        geometry=GeometryKind.POINT,
        params=CamerasSeeingParams,
        build=build,
        style=LAYERS[CCTV].style,
        style_attribute="status",
        labels=_STATUS_LABELS,
    ),
)
