"""The bbox test of the items, counts and export paths: exact, and served by the (layer_id, geom) index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, Integer, and_, case, func, literal
from sqlalchemy.sql.elements import ColumnElement

from geo.bbox import BBox
from geo.kinds import GeometryKind


def bbox_envelope(bbox: BBox, srid: int = 4326) -> ColumnElement[Any]:
    """Return a bbox given in `srid` as a polygon in EPSG:4326."""
    envelope = func.ST_MakeEnvelope(*(literal(v, Float) for v in bbox), literal(srid, Integer))
    return envelope if srid == 4326 else func.ST_Transform(envelope, literal(4326, Integer))


def in_bbox(
    kind: GeometryKind, geom: ColumnElement[Any], bbox: BBox, srid: int = 4326
) -> ColumnElement[bool]:
    """Return whether `geom` intersects the bbox, exactly (boundary included), in a form the index serves."""
    envelope = bbox_envelope(bbox, srid)
    if kind is not GeometryKind.POINT or srid != 4326:
        return func.ST_Intersects(geom, envelope)
    # `&&` alone compares float4-rounded boxes, so points up to ~1 m outside the bbox would match. The
    # coordinate test is exact and costs far less per row than ST_Intersects (bench/features.py); ST_X
    # refuses a MultiPoint, which the point family also holds, so those take ST_Intersects.
    x0, y0, x1, y1 = (literal(v, Float) for v in bbox)
    inside = and_(func.ST_X(geom).between(x0, x1), func.ST_Y(geom).between(y0, y1))
    is_point = func.GeometryType(geom) == literal("POINT")
    exact = case((is_point, inside), else_=func.ST_Intersects(geom, envelope))
    return and_(geom.op("&&", return_type=Boolean)(envelope), exact)
