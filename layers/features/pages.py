"""Feature pages and single features as GeoJSON built by PostGIS, with live (or past) status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Connection, FromClause, Select, Subquery, Text, and_, func, literal, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from layers.access.policy import FieldView
from layers.catalog.spec import LayerSpec, Storage
from layers.errors import InvalidInput
from layers.features.bbox_filter import bbox_envelope as envelope_4326
from layers.features.bbox_filter import in_bbox
from layers.features.queryables import Queryable, queryables, source_table, stale_expression
from layers.tables import asset_status, observations


@dataclass(frozen=True, slots=True)
class OutputCrs:
    """The CRS features are written in: SRID, whether axes are swapped to lat/lon, decimal digits."""

    srid: int = 4326
    flip: bool = False
    digits: int = 7


@dataclass(frozen=True, slots=True)
class FeatureQuery:
    """Everything a client may ask of a page of features, already parsed and bounded."""

    limit: int = 100
    after_id: int | None = None
    before_id: int | None = None  # keyset paging backwards (default order only)
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None  # x/y order in bbox_srid
    bbox_srid: int = 4326
    interval: tuple[datetime | None, datetime | None] | None = None
    sortby: tuple[tuple[str, bool], ...] = ()  # (queryable, descending)
    select: tuple[str, ...] | None = None
    equals: Mapping[str, str] = field(default_factory=dict)
    filters: tuple[ColumnElement[bool], ...] = ()
    at: datetime | None = None
    crs: OutputCrs = field(default_factory=OutputCrs)


@dataclass(frozen=True, slots=True)
class Page:
    """A page of features as a GeoJSON array text, with what paging needs."""

    features_json: str
    returned: int
    first_id: int | None
    last_id: int | None


def status_source(layer: LayerSpec, at: datetime | None) -> FromClause | None:
    """Return the status relation: the latest status, or the status as it was at `at`."""
    if layer.status is None:
        return None
    if at is None:
        return asset_status
    table = source_table(layer)
    o = observations
    return (
        select(o.c.status, o.c.value, o.c.unit, o.c.observed_at)
        .where(o.c.asset_id == table.c.id, o.c.observed_at <= at)
        .order_by(o.c.observed_at.desc())
        .limit(1)
        .lateral("status_at")
    )


def layer_queryables(
    layer: LayerSpec, view: FieldView, at: datetime | None = None
) -> Mapping[str, Queryable]:
    """Return the queryables of a layer for a caller, bound to the live or the past status."""
    return query_context(layer, view, at)[0]


def query_context(
    layer: LayerSpec, view: FieldView, at: datetime | None
) -> tuple[Mapping[str, Queryable], FromClause]:
    """Return the queryables and the FROM clause they refer to (one status relation for both)."""
    table = source_table(layer)
    status = status_source(layer, at)
    if status is None:
        return queryables(layer, view), table
    if at is None:
        return queryables(layer, view), table.outerjoin(asset_status, asset_status.c.asset_id == table.c.id)
    return queryables(layer, view, status), table.outerjoin(status, true())


def where_clauses(
    layer: LayerSpec, q: FeatureQuery, qs: Mapping[str, Queryable]
) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses the items path applies for `q` (paging cursors excluded)."""
    table = source_table(layer)
    clauses: list[ColumnElement[bool]] = [table.c.layer_id == layer.id]
    if layer.storage is Storage.AREAS:
        clauses.append(table.c.deleted_at.is_(None))
    if q.bbox is not None:
        clauses.append(in_bbox(layer.geometry, table.c.geom, q.bbox, q.bbox_srid))
    if q.interval is not None:
        clauses.extend(_interval(qs["observed_at" if "observed_at" in qs else "updated_at"].expr, q.interval))
    for name, value in q.equals.items():
        clauses.append(qs[name].expr == value)
    clauses.extend(q.filters)
    if q.at is not None and layer.storage is Storage.ASSETS:
        clauses.append(table.c.created_at <= q.at)
    return clauses


def bbox_envelope(q: FeatureQuery) -> ColumnElement[Any]:
    """Return the query's bbox as a polygon in EPSG:4326 (it may be given in any offered CRS)."""
    assert q.bbox is not None  # noqa: S101  (callers test it first)
    return envelope_4326(q.bbox, q.bbox_srid)


def _interval(
    expr: ColumnElement[Any], interval: tuple[datetime | None, datetime | None]
) -> list[ColumnElement[bool]]:
    start, end = interval
    out: list[ColumnElement[bool]] = []
    if start is not None:
        out.append(expr >= start)
    if end is not None:
        out.append(expr <= end)
    return out


def geometry_json(geom: ColumnElement[Any], crs: OutputCrs) -> ColumnElement[Any]:
    """Return a geometry as GeoJSON in the output CRS (axes swapped where the CRS says lat/lon)."""
    if crs.srid != 4326:
        geom = func.ST_Transform(geom, literal(crs.srid))
    if crs.flip:
        geom = func.ST_FlipCoordinates(geom)
    return func.ST_AsGeoJSON(geom, literal(crs.digits)).cast(JSON)


def _properties(layer: LayerSpec, qs: Mapping[str, Queryable], q: FeatureQuery) -> ColumnElement[Any]:
    names = [n for n in qs if qs[n].json is not None]
    if q.select is not None:
        names = [n for n in names if n in q.select]
    pairs: list[Any] = list(chain.from_iterable((literal(n), qs[n].json) for n in names))
    if layer.status is not None and "observed_at" in qs and (q.select is None or "stale" in q.select):
        now = literal(q.at) if q.at is not None else None
        pairs += [literal("stale"), stale_expression(layer, qs["observed_at"].expr, now)]
    table = source_table(layer)
    extra: list[tuple[str, Any]] = [("version", table.c.version)]
    if layer.storage is Storage.AREAS:
        extra.append(("created_by", table.c.created_by))
    for name, expr in extra:
        if q.select is None or name in q.select:
            pairs += [literal(name), expr]
    return func.jsonb_build_object(*pairs)


def feature_json(
    fid: ColumnElement[Any], geom: ColumnElement[Any], properties: ColumnElement[Any], crs: OutputCrs
) -> ColumnElement[Any]:
    """Return a GeoJSON Feature object built by PostGIS."""
    return func.json_build_object(
        literal("type"),
        literal("Feature"),
        literal("id"),
        fid,
        literal("geometry"),
        geometry_json(geom, crs),
        literal("properties"),
        properties,
    )


def _feature(layer: LayerSpec, qs: Mapping[str, Queryable], q: FeatureQuery) -> ColumnElement[Any]:
    table = source_table(layer)
    return feature_json(table.c.id, table.c.geom, _properties(layer, qs, q), q.crs)


def order_clauses(
    qs: Mapping[str, Queryable], sortby: Sequence[tuple[str, bool]]
) -> list[ColumnElement[Any]]:
    """Return ORDER BY expressions for a sortby; unknown names raise InvalidInput."""
    out: list[ColumnElement[Any]] = []
    for name, descending in sortby:
        if name not in qs or qs[name].kind == "geometry":
            raise InvalidInput(
                f"cannot sort by {name!r}", f"tidak dapat mengurutkan menurut {name!r}", field=name
            )
        expr = qs[name].expr
        out.append(expr.desc().nulls_last() if descending else expr.asc().nulls_last())
    return out


def _paging(
    fid: ColumnElement[Any],
    sort: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
    q: FeatureQuery,
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[Any]]]:
    """Return the page's WHERE (the cursor added) and ORDER BY; walking backwards fetches newest-first."""
    order = [*sort, fid.asc()]
    paged = list(where)
    if q.after_id is not None:
        paged.append(fid > q.after_id)
    if q.before_id is not None:
        paged.append(fid < q.before_id)
        order = [fid.desc()]
    return paged, order


def _aggregated(page: Subquery, q: FeatureQuery) -> list[ColumnElement[Any]]:
    """Return one row of a page subquery (f, fid, ord): features JSON array text, count, first and last id."""
    agg_order = page.c.fid if q.before_id is not None else page.c.ord
    return [
        func.coalesce(func.json_agg(aggregate_order_by(page.c.f, agg_order)).cast(Text), literal("[]")).label(
            "features"
        ),
        func.count().label("returned"),
        func.min(page.c.fid).label("first_id"),
        func.max(page.c.fid).label("last_id"),
    ]


def page_columns(
    feature: ColumnElement[Any],
    fid: ColumnElement[Any],
    sort: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]],
    q: FeatureQuery,
    from_: FromClause | None = None,
) -> list[ColumnElement[Any]]:
    """Return the columns of one page: features JSON array text, count, first and last id.

    Rows matching `where` are ordered by `sort`, then `fid`; the query's cursor, limit and offset pick
    the page. Walking backwards fetches newest-first; the page itself is always written ascending.
    """
    paged, order = _paging(fid, sort, where, q)
    inner = select(feature.label("f"), fid.label("fid"), func.row_number().over(order_by=order).label("ord"))
    if from_ is not None:
        inner = inner.select_from(from_)
    page = inner.where(*paged).order_by(*order).limit(q.limit).offset(q.offset).subquery("page")
    return _aggregated(page, q)


def page_statement(layer: LayerSpec, view: FieldView, q: FeatureQuery) -> Select[Any]:
    """Return SQL for one page: a single row (features JSON array text, count, first and last id).

    The page's ids are picked first and its features built for them only. Picking ids alone lets a plain
    page read just the (layer_id, id) index: with whole rows PostgreSQL prefers walking the primary key,
    which for a layer whose ids come late passes every other layer's rows first.
    """
    qs, from_ = query_context(layer, view, q.at)
    table = source_table(layer)
    paged, order = _paging(table.c.id, order_clauses(qs, q.sortby), where_clauses(layer, q, qs), q)
    ordinal = func.row_number().over(order_by=order).label("ord")
    ids = (
        select(table.c.id.label("fid"), ordinal)
        .select_from(from_)
        .where(*paged)
        .order_by(*order)
        .limit(q.limit)
        .offset(q.offset)
        .subquery("page_ids")
    )
    page = (
        select(_feature(layer, qs, q).label("f"), ids.c.fid, ids.c.ord)
        .select_from(from_.join(ids, ids.c.fid == table.c.id))
        .subquery("page")
    )
    return select(*_aggregated(page, q))


def fetch_page(conn: Connection, layer: LayerSpec, view: FieldView, q: FeatureQuery) -> Page:
    """Return one page of features of `layer` as a GeoJSON array built by PostGIS."""
    row = conn.execute(page_statement(layer, view, q)).one()
    return Page(
        features_json=row.features, returned=int(row.returned), first_id=row.first_id, last_id=row.last_id
    )


def count_matched(conn: Connection, layer: LayerSpec, view: FieldView, q: FeatureQuery) -> int:
    """Return how many features match the query's filters (paging ignored)."""
    qs, from_ = query_context(layer, view, q.at)
    stmt = select(func.count()).select_from(from_).where(and_(*where_clauses(layer, q, qs)))
    return int(conn.execute(stmt).scalar_one())


def fetch_feature(
    conn: Connection, layer: LayerSpec, view: FieldView, feature_id: int, q: FeatureQuery
) -> str | None:
    """Return one feature as GeoJSON text, or None."""
    qs, from_ = query_context(layer, view, q.at)
    table = source_table(layer)
    where = [*where_clauses(layer, q, qs), table.c.id == feature_id]
    stmt = select(_feature(layer, qs, q).cast(Text)).select_from(from_).where(and_(*where))
    value: str | None = conn.execute(stmt).scalar_one_or_none()
    return value
