"""The place a query is about: a point, a posted geometry, a response area, a district or an asset.

A params model picks the kinds it accepts by inheriting their field mixins (`PointField`,
`GeometryField`, ...); `PlaceParams` checks that exactly one is given, and `resolve_place` turns it
into SQL (EPSG:4326) built from bound values or a scalar subquery on the stored row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import shapely
from geoalchemy2 import Geography
from pydantic import model_validator
from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, Float, LargeBinary, Row, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from geo.digits import whole_number
from layers.access.policy import Action, Principal, allows
from layers.catalog import LAYERS
from layers.catalog.spec import Storage
from layers.errors import InvalidInput
from layers.queries.params import GeometryValue, LonLat, ParamError, QueryParams, param
from layers.queries.spec import QueryContext
from layers.tables import areas, assets

PLACE_KINDS = ("point", "geometry", "area_id", "district", "asset_id")
RESPONSE_AREAS = "response_areas"
DISTRICT_LAYERS = ("districts", "villages")
MAX_ID = 2**63 - 1
# The shortest ground length of one degree (of latitude, at the equator) on WGS 84, in metres.
MIN_METRES_PER_DEGREE = 110_574.0


class PlaceParams(QueryParams):
    """Base of params models that take a place: exactly one of the place fields they inherit."""

    @model_validator(mode="after")
    def _exactly_one_place(self) -> PlaceParams:
        offered = place_kinds(type(self))
        given = [kind for kind in offered if getattr(self, kind) is not None]
        if len(given) != 1:
            listed = ", ".join(offered)
            raise ParamError(
                f"give exactly one place of: {listed} (got {len(given)})",
                f"berikan tepat satu tempat dari: {listed} (diberikan {len(given)})",
            )
        return self


class PointField(PlaceParams):
    """A place given as a point."""

    point: LonLat | None = param(None, "Titik (bujur,lintang)", "Point (lon,lat)")


class GeometryField(PlaceParams):
    """A place given as a posted geometry."""

    geometry: GeometryValue | None = param(
        None, "Geometri (GeoJSON atau WKT, EPSG:4326)", "Geometry (GeoJSON or WKT, EPSG:4326)"
    )


class AreaIdField(PlaceParams):
    """A place given as a stored disaster-response area."""

    area_id: int | None = param(None, "Id area tanggap bencana", "Disaster-response area id", ge=1, le=MAX_ID)


class DistrictField(PlaceParams):
    """A place given as a kecamatan or kelurahan/desa."""

    district: str | None = param(
        None,
        "Kecamatan atau kelurahan/desa (id atau kode)",
        "District or village (id or code)",
        max_length=64,
    )


class AssetField(PlaceParams):
    """A place given as a stored asset (a camera, a dumping point, ...)."""

    asset_id: int | None = param(None, "Id aset", "Asset id", ge=1, le=MAX_ID)


def place_kinds(model: type[QueryParams]) -> tuple[str, ...]:
    """Return the place kinds a params model accepts, in a fixed order."""
    return tuple(kind for kind in PLACE_KINDS if kind in model.model_fields)


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved place: SQL for its geometry (EPSG:4326) and what is known of it when the query is built."""

    kind: str
    geom: ColumnElement[Any]
    dimension: int  # 0 point, 1 line, 2 area
    lat_range: tuple[float, float]  # south, north (degrees)
    asset_id: int | None = None  # the asset the place is, if it is one

    @property
    def geography(self) -> ColumnElement[Any]:
        """Return the place as geography, for distances in metres on the spheroid."""
        return cast(self.geom, Geography)

    @property
    def abs_lat(self) -> float:
        """Return the place's largest absolute latitude (where a degree of longitude is shortest)."""
        return max(abs(self.lat_range[0]), abs(self.lat_range[1]))

    def degrees_for(self, distance_m: float) -> float:
        """Return a distance in degrees no object within `distance_m` of the place can be beyond."""
        return degrees_bound(distance_m, self.abs_lat)

    def degrees_for_sql(self, distance_m: ColumnElement[Any]) -> ColumnElement[Any]:
        """Return `degrees_for` computed in SQL, for a distance known only when the query runs."""
        per_degree = literal(MIN_METRES_PER_DEGREE, Float)
        reach = func.least(literal(self.abs_lat, Float) + distance_m / per_degree, literal(89.0, Float))
        return literal(1.001, Float) * distance_m / (per_degree * func.cos(func.radians(reach)))


def degrees_bound(distance_m: float, abs_lat: float) -> float:
    """Return a safe bound, in degrees, for a ground distance from somewhere at latitude ±abs_lat.

    One degree of longitude is at least MIN_METRES_PER_DEGREE·cos(lat) long, so planar distance in
    degrees never exceeds distance_m over that; the latitude is widened by the distance itself and a
    little slack covers rounding.
    """
    reach = min(abs_lat + distance_m / MIN_METRES_PER_DEGREE, 89.0)
    return 1.001 * distance_m / (MIN_METRES_PER_DEGREE * math.cos(math.radians(reach)))


def resolve_place(ctx: QueryContext, params: PlaceParams) -> Place:
    """Return the place `params` names; an unknown or hidden stored place is a 400 that reveals nothing."""
    kind = next(k for k in place_kinds(type(params)) if getattr(params, k) is not None)
    value = getattr(params, kind)
    if kind == "point":
        return _point_place(value)
    if kind == "geometry":
        return _geometry_place(value)
    if kind == "area_id":
        return _area_place(ctx, value)
    if kind == "district":
        return _district_place(ctx, value)
    return _asset_place(ctx, value)


def _point_place(lonlat: tuple[float, float]) -> Place:
    lon, lat = lonlat
    geom = func.ST_SetSRID(func.ST_MakePoint(literal(lon, Float), literal(lat, Float)), 4326)
    return Place("point", geom, 0, (lat, lat))


def _geometry_place(shape: BaseGeometry) -> Place:
    geom = func.ST_GeomFromWKB(literal(shapely.to_wkb(shape), LargeBinary), 4326)
    _, south, _, north = shape.bounds
    return Place("geometry", geom, int(shapely.get_dimensions(shape)), (south, north))


def _stored_facts(table: Any, *where: ColumnElement[bool]) -> Any:
    return select(
        table.c.id,
        table.c.layer_id,
        func.ST_Dimension(table.c.geom).label("dimension"),
        func.ST_YMin(table.c.geom).label("south"),
        func.ST_YMax(table.c.geom).label("north"),
    ).where(*where)


def _stored_place(kind: str, table: Any, row: Row[Any], *where: ColumnElement[bool]) -> Place:
    geom = (
        select(table.c.geom).where(table.c.id == literal(int(row.id), BigInteger), *where).scalar_subquery()
    )
    asset_id = int(row.id) if table is assets else None
    return Place(kind, geom, int(row.dimension), (float(row.south), float(row.north)), asset_id)


def _area_place(ctx: QueryContext, area_id: int) -> Place:
    live = (areas.c.layer_id == RESPONSE_AREAS, areas.c.deleted_at.is_(None))
    row = None
    if allows(ctx.principal, Action.READ, LAYERS[RESPONSE_AREAS]):
        row = ctx.conn.execute(
            _stored_facts(areas, areas.c.id == literal(area_id, BigInteger), *live)
        ).first()
    if row is None:
        raise InvalidInput(
            f"area_id: no response area {area_id}",
            f"area_id: area tanggap bencana {area_id} tidak ada",
            parameter="area_id",
        )
    return _stored_place("area_id", areas, row, *live)


def _district_place(ctx: QueryContext, district: str) -> Place:
    layer_ids = [i for i in DISTRICT_LAYERS if allows(ctx.principal, Action.READ, LAYERS[i])]
    matches = [assets.c.external_id == district]
    number = whole_number(district)
    if number is not None:
        matches.append(assets.c.id == literal(number, BigInteger))
    query = (
        _stored_facts(assets, assets.c.layer_id.in_(layer_ids), or_(*matches))
        # An exact code wins over an id that happens to be the same digits; districts over villages.
        .order_by((assets.c.external_id == district).desc(), (assets.c.layer_id == "districts").desc())
        .limit(1)
    )
    row = ctx.conn.execute(query).first() if layer_ids else None
    if row is None:
        raise InvalidInput(
            f"district: no district or village {district!r}",
            f"district: kecamatan atau kelurahan/desa {district!r} tidak ada",
            parameter="district",
        )
    return _stored_place("district", assets, row)


def _asset_place(ctx: QueryContext, asset_id: int) -> Place:
    row = ctx.conn.execute(_stored_facts(assets, assets.c.id == literal(asset_id, BigInteger))).first()
    layer = LAYERS.get(row.layer_id) if row is not None else None
    if (
        row is None
        or layer is None
        or layer.storage is not Storage.ASSETS
        or not allows(ctx.principal, Action.READ, layer)
    ):
        raise InvalidInput(
            f"asset_id: no asset {asset_id}", f"asset_id: aset {asset_id} tidak ada", parameter="asset_id"
        )
    return _stored_place("asset_id", assets, row)


def may_read_layer(principal: Principal, layer_id: str) -> bool:
    """Return whether the caller may read the catalog layer `layer_id` (False if it is unknown)."""
    layer = LAYERS.get(layer_id)
    return layer is not None and allows(principal, Action.READ, layer)
