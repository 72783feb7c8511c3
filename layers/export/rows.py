"""What an export reads: a source of typed rows (a stored layer or a query layer's answer), streamed.

Writers never see a layer: they see an `ExportSource`, its columns and a statement per geometry
encoding; a query layer builds an `ExportSource` of its own (layers/collections/query_export.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, exists, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from geo.kinds import GeometryKind
from layers.access.policy import FieldView
from layers.catalog.spec import LayerSpec, Storage, Style, Titles
from layers.features.pages import FeatureQuery, OutputCrs, order_clauses, query_context, where_clauses
from layers.features.queryables import Queryable, source_table, stale_expression

CHUNK_ROWS = 5_000
STATUS_COLUMNS = ("status", "status_value", "status_unit", "observed_at")


class GeomEncoding(StrEnum):
    """How the geometry column of an export statement is encoded."""

    WKB = "wkb"  # GDAL writers
    GEOJSON = "geojson"  # GeoJSON text in the query's CRS
    KML = "kml"  # KML geometry fragment, always WGS 84
    WKT = "wkt"  # CSV and XLSX


@dataclass(frozen=True, slots=True)
class ExportColumn:
    """One attribute column of an export."""

    name: str
    kind: str  # string | number | integer | boolean | datetime


@dataclass(frozen=True, slots=True)
class ExportSource:
    """Everything a writer needs: names, titles, columns, geometry, style and the rows' statement.

    `statement(encoding)` returns `id`, the columns in order, then `geom` (and `lon`, `lat` for
    point sources when encoding is WKT).
    """

    name: str
    title: Titles
    description: Titles
    agency: str
    geometry: GeometryKind
    geometry_type: str  # OGR name: Point, MultiPoint, MultiLineString, MultiPolygon
    srid: int
    columns: tuple[ExportColumn, ...]
    style: Style
    statement: Callable[[GeomEncoding], Select[Any]]
    style_attribute: str | None = None  # the attribute the style's colours are keyed by
    labels: Mapping[str, Titles] = field(default_factory=dict)  # of style_attribute's values
    time_limit_s: float | None = None  # a query layer's limit, kept when the rows stream on their own


@dataclass(frozen=True, slots=True)
class Paging:
    """An export's optional row window; None exports every matching feature."""

    limit: int | None = None
    offset: int = 0


def stream_rows(
    conn: Connection, stmt: Select[Any], chunk_rows: int = CHUNK_ROWS
) -> Iterator[Sequence[Row[Any]]]:
    """Yield the statement's rows in chunks through a server-side cursor (never all rows in memory)."""
    # Per statement: Connection.execution_options() would change the connection itself for what follows.
    result = conn.execute(stmt, execution_options={"stream_results": True, "yield_per": chunk_rows})
    try:
        yield from result.partitions()
    finally:
        result.close()


def _column_names(layer: LayerSpec, qs: Mapping[str, Queryable], q: FeatureQuery) -> list[tuple[str, str]]:
    names = [n for n in qs if qs[n].kind != "geometry" and n != "updated_at"]
    out = [(n, qs[n].kind) for n in names]
    if layer.status is not None and "observed_at" in qs:
        out.append(("stale", "boolean"))
    out += [("updated_at", "datetime"), ("version", "integer")]
    if layer.storage is Storage.AREAS:
        out.append(("created_by", "string"))
    if q.select is not None:
        out = [(n, k) for n, k in out if n in q.select]
    return out


def _column_expr(layer: LayerSpec, qs: Mapping[str, Queryable], q: FeatureQuery, name: str) -> Any:
    table = source_table(layer)
    if name == "stale":
        now = literal(q.at) if q.at is not None else None
        return stale_expression(layer, qs["observed_at"].expr, now)
    if name in ("version", "created_by"):
        return table.c[name]
    return qs[name].expr


def geometry_columns(
    geom: ColumnElement[Any], kind: GeometryKind, crs: OutputCrs, encoding: GeomEncoding
) -> list[ColumnElement[Any]]:
    """Return the `geom` column (and `lon`, `lat` for points written as WKT) of an export statement."""
    if encoding is GeomEncoding.KML:
        return [func.ST_AsKML(geom, literal(7)).label("geom")]
    if crs.srid != 4326:
        geom = func.ST_Transform(geom, literal(crs.srid))
    if encoding is GeomEncoding.GEOJSON:
        flipped = func.ST_FlipCoordinates(geom) if crs.flip else geom
        return [func.ST_AsGeoJSON(flipped, literal(crs.digits)).label("geom")]
    if kind is not GeometryKind.POINT:
        geom = func.ST_Multi(geom)
    if encoding is GeomEncoding.WKB:
        return [func.ST_AsBinary(geom).label("geom")]
    out: list[ColumnElement[Any]] = [func.ST_AsText(geom, literal(crs.digits)).label("geom")]
    if kind is GeometryKind.POINT:
        point = func.ST_PointOnSurface(geom)
        out += [func.ST_X(point).label("lon"), func.ST_Y(point).label("lat")]
    return out


def layer_statement(
    layer: LayerSpec, view: FieldView, q: FeatureQuery, paging: Paging, encoding: GeomEncoding
) -> Select[Any]:
    """Return the rows of a layer the items path would return for `q`, as typed columns."""
    qs, from_ = query_context(layer, view, q.at)
    table = source_table(layer)
    columns = [_column_expr(layer, qs, q, n).label(n) for n, _ in _column_names(layer, qs, q)]
    stmt = (
        select(
            table.c.id.label("id"), *columns, *geometry_columns(table.c.geom, layer.geometry, q.crs, encoding)
        )
        .select_from(from_)
        .where(and_(*where_clauses(layer, q, qs)))
        .order_by(*order_clauses(qs, q.sortby), table.c.id.asc())
    )
    if paging.limit is not None:
        stmt = stmt.limit(paging.limit).offset(paging.offset)
    return stmt


def _has_multipoints(conn: Connection, layer: LayerSpec) -> bool:
    table = source_table(layer)
    found = exists().where(table.c.layer_id == layer.id, func.GeometryType(table.c.geom) == "MULTIPOINT")
    return bool(conn.execute(select(found)).scalar_one())


def ogr_geometry_type(conn: Connection, layer: LayerSpec) -> str:
    """Return the geometry type a file of this layer declares (points stay single unless some are multi)."""
    if layer.geometry is GeometryKind.POINT:
        return "MultiPoint" if _has_multipoints(conn, layer) else "Point"
    return layer.geometry.postgis_type()


def style_attribute(layer: LayerSpec, names: Collection[str]) -> str | None:
    """Return the attribute a layer's style colours are keyed by: `status`, or a property holding them all."""
    if not layer.style.by_status:
        return None
    if layer.status is not None:
        return "status" if "status" in names else None
    schema = layer.properties.model_json_schema().get("properties", {})
    wanted = set(layer.style.by_status)
    for name, prop in schema.items():
        if name in names and wanted <= set(prop.get("enum", ())):
            return str(name)
    return None


def layer_source(
    conn: Connection, layer: LayerSpec, view: FieldView, q: FeatureQuery, paging: Paging | None = None
) -> ExportSource:
    """Return the export source of a stored layer as the caller may see it, filtered like the items path."""
    qs, _ = query_context(layer, view, q.at)
    columns = tuple(ExportColumn(n, k) for n, k in _column_names(layer, qs, q))
    window = paging or Paging()
    return ExportSource(
        name=layer.id,
        title=layer.title,
        description=layer.description,
        agency=layer.owner,
        geometry=layer.geometry,
        geometry_type=ogr_geometry_type(conn, layer),
        srid=q.crs.srid,
        columns=columns,
        style=layer.style,
        statement=lambda encoding: layer_statement(layer, view, q, window, encoding),
        style_attribute=style_attribute(layer, {c.name for c in columns}),
        labels=dict(layer.status.labels) if layer.status is not None else {},
    )
