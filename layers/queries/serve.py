"""Serve a query layer's answer through the paths stored layers use: feature pages, tiles and exports.

The answer's statement runs once per request as a MATERIALIZED CTE; a page and its count come from
the same execution, so a heavy query (clusters, hexagons) is not computed twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    CTE,
    Connection,
    Float,
    Integer,
    Select,
    Text,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from geo.kinds import GeometryKind
from geo.tiles import BUFFER, BUFFER_FRACTION, EXTENT, TileKey, bounds_lonlat, tile_size_m
from layers.db import limit_statement_time, translate
from layers.errors import KendaliError, QueryTimeout
from layers.features.pages import (
    FeatureQuery,
    Page,
    bbox_envelope,
    feature_json,
    order_clauses,
    page_columns,
)
from layers.features.queryables import Queryable
from layers.queries.params import parse_params
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec

MAX_PROPERTY_PAIRS = 45  # json_build_object takes at most 100 arguments


class QueryTimeLimit(QueryTimeout):
    """A query layer ran past its declared time limit."""

    code = "query_time_limit"

    def __init__(self, query_id: str, limit_s: float) -> None:
        KendaliError.__init__(
            self,
            f"the query {query_id!r} reached its time limit of {limit_s:g} s and was stopped; "
            "narrow the area or the parameters",
            f"kueri {query_id!r} mencapai batas waktu {limit_s:g} detik dan dihentikan; "
            "persempit area atau parameternya",
            query=query_id,
            time_limit_s=limit_s,
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """A query layer run with parsed parameters: its spec, parameters and built answer."""

    spec: QuerySpec
    params: BaseModel
    built: QueryAnswer
    rows: CTE  # the answer as one MATERIALIZED CTE: filters, pages and counts all refer to it

    @property
    def columns(self) -> tuple[QueryColumn, ...]:
        """The answer's attribute columns, in order."""
        return self.built.columns


def run_query(ctx: QueryContext, spec: QuerySpec, values: Mapping[str, Any]) -> Answer:
    """Parse the parameters and build the answer (a flood query may compute and cache zones here)."""
    params = parse_params(spec.params, values)
    built = spec.build(ctx, params)
    return Answer(spec, params, built, built.statement.cte("answer").prefix_with("MATERIALIZED"))


def limit_time(conn: Connection, answer: Answer) -> None:
    """Bound the statements that follow in this transaction by the query's time limit."""
    limit_statement_time(conn, answer.spec.time_limit_s)


def execute(conn: Connection, answer: Answer, stmt: Select[Any]) -> Any:
    """Execute a statement over the answer; a cancelled statement becomes QueryTimeLimit."""
    try:
        return conn.execute(stmt)
    except DBAPIError as exc:
        if isinstance(translate(exc), QueryTimeout):
            raise QueryTimeLimit(answer.spec.id, answer.spec.time_limit_s) from exc
        raise


def answer_queryables(answer: Answer) -> dict[str, Queryable]:
    """Return the names a client may filter, sort and select on: the answer's columns and geometry."""
    rows = answer.rows
    out = {c.name: Queryable(rows.c[c.name], c.kind, rows.c[c.name]) for c in answer.columns}
    out["geometry"] = Queryable(rows.c.geom, "geometry")
    return out


def where_clauses(answer: Answer, q: FeatureQuery) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses of the items path over an answer (bbox, equality, CQL2; no paging)."""
    rows = answer.rows
    clauses: list[ColumnElement[bool]] = []
    if q.bbox is not None:
        clauses.append(func.ST_Intersects(rows.c.geom, bbox_envelope(q)))
    qs = answer_queryables(answer)
    clauses.extend(qs[name].expr == value for name, value in q.equals.items())
    clauses.extend(q.filters)
    return clauses


def _feature(answer: Answer, rows: CTE, q: FeatureQuery) -> ColumnElement[Any]:
    names = [c.name for c in answer.columns if q.select is None or c.name in q.select]
    pairs = list(chain.from_iterable((literal(n), rows.c[n]) for n in names[:MAX_PROPERTY_PAIRS]))
    return feature_json(rows.c.id, rows.c.geom, func.json_build_object(*pairs), q.crs)


def page_statement(answer: Answer, q: FeatureQuery) -> Select[Any]:
    """Return SQL for one page and the number matched, from one run of the answer."""
    rows = answer.rows
    where = where_clauses(answer, q)
    sort = order_clauses(answer_queryables(answer), q.sortby)
    matched = select(func.count()).select_from(rows).where(*where).scalar_subquery()
    return select(
        *page_columns(_feature(answer, rows, q), rows.c.id, sort, where, q), matched.label("matched")
    )


def fetch_page(conn: Connection, answer: Answer, q: FeatureQuery) -> tuple[Page, int]:
    """Return one page of the answer as GeoJSON built by PostGIS, and how many features match."""
    row = execute(conn, answer, page_statement(answer, q)).one()
    page = Page(row.features, int(row.returned), row.first_id, row.last_id)
    return page, int(row.matched)


def fetch_feature(conn: Connection, answer: Answer, feature_id: int, q: FeatureQuery) -> str | None:
    """Return one feature of the answer as GeoJSON text, or None."""
    rows = answer.rows
    stmt = select(_feature(answer, rows, q).cast(Text)).where(rows.c.id == feature_id)
    value: str | None = execute(conn, answer, stmt).scalar_one_or_none()
    return value


def _tile_value(rows: CTE, column: QueryColumn) -> ColumnElement[Any]:
    value: ColumnElement[Any] = rows.c[column.name]
    if column.kind == "datetime":
        return value.cast(Text).label(column.name)
    return value.label(column.name)


def tile_statement(answer: Answer, key: TileKey) -> Select[Any]:
    """Return SQL for the answer's MVT tile: every feature touching the buffered tile, id = feature id."""
    rows = answer.rows
    west, south, east, north = bounds_lonlat(key, BUFFER_FRACTION)
    box = func.ST_MakeEnvelope(
        bindparam("w", west, Float),
        bindparam("s", south, Float),
        bindparam("e", east, Float),
        bindparam("n", north, Float),
        literal(4326, Integer),
    )
    envelope = func.ST_TileEnvelope(
        bindparam("tile_z", key.z, Integer),
        bindparam("tile_x", key.x, Integer),
        bindparam("tile_y", key.y, Integer),
    )
    geom: ColumnElement[Any] = func.ST_Transform(rows.c.geom, literal(3857, Integer))
    if answer.spec.geometry is not GeometryKind.POINT:
        geom = func.ST_Simplify(geom, bindparam("tolerance_m", tile_size_m(key.z) / EXTENT, Float), True)
    mvt_geom = func.ST_AsMVTGeom(geom, envelope, literal(EXTENT, Integer), literal(BUFFER, Integer), True)
    features = (
        select(rows.c.id, mvt_geom.label("geom"), *(_tile_value(rows, c) for c in answer.columns))
        .where(func.ST_Intersects(rows.c.geom, box))
        .subquery("tile_rows")
    )
    mvt = func.ST_AsMVT(
        features.table_valued(),
        literal(answer.spec.id, Text),
        literal(EXTENT, Integer),
        literal("geom", Text),
        literal("id", Text),
    ).aggregate_order_by(features.c.id)
    return select(func.coalesce(mvt, literal(b"")).label("mvt")).select_from(features)


def fetch_tile(conn: Connection, answer: Answer, key: TileKey) -> bytes:
    """Return the answer's MVT bytes for one tile (empty when nothing touches it)."""
    data = execute(conn, answer, tile_statement(answer, key)).scalar_one()
    return bytes(data or b"")


def tile_fields(answer: Answer) -> dict[str, str]:
    """Return the attributes a tile of the answer carries, with TileJSON field types."""
    kinds = {"number": "Number", "integer": "Number", "boolean": "Boolean"}
    return {c.name: kinds.get(c.kind, "String") for c in answer.columns}
