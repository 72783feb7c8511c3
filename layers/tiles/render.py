"""Mapbox Vector Tiles built by PostGIS (ST_AsMVT) for any layer a caller may see, with live status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Boolean,
    Connection,
    Float,
    FromClause,
    Integer,
    Select,
    Subquery,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from geo.bbox import BBox
from geo.kinds import GeometryKind
from geo.tiles import (
    BUFFER,
    BUFFER_FRACTION,
    EXTENT,
    TileKey,
    bounds_lonlat,
    tile_size_m,
)
from layers.access.policy import FieldView
from layers.catalog.spec import LayerSpec, Storage
from layers.features.queryables import property_kinds, source_table, stale_expression
from layers.tables import asset_status
from layers.tiles.cache import CACHE, Tile, TileCache

# A point tile with more points than this is drawn as clusters, which keeps every tile small.
CLUSTER_ABOVE = 2000
CLUSTER_GRID = 32  # cluster cells across a tile: at most 1,024 clusters per layer and tile
MAX_STRING_LENGTH = 200  # longer texts (addresses, notes) stay in the feature API, not in tiles
RESERVED = frozenset(
    {"id", "geom", "name", "external_id", "status", "status_value", "stale", "cluster", "point_count"}
)
_SQL_TYPES: dict[str, Any] = {
    "string": Text,
    "datetime": Text,
    "number": Float,
    "integer": BigInteger,
    "boolean": Boolean,
}
_FIELD_TYPES = {"string": "String", "datetime": "String", "number": "Number", "integer": "Number"}


def tile_properties(layer: LayerSpec, view: FieldView) -> dict[str, str]:
    """Return the declared properties a tile carries for this caller: visible, scalar and short."""
    schema = layer.properties.model_json_schema().get("properties", {})
    kinds = property_kinds(layer)
    out: dict[str, str] = {}
    for name in view.properties:
        options = schema.get(name, {}).get("anyOf", [schema.get(name, {})])
        too_long = any(o.get("maxLength", 0) > MAX_STRING_LENGTH or o.get("format") == "uri" for o in options)
        if not too_long and name not in RESERVED and not name.startswith("count_"):
            out[name] = kinds[name]
    return out


def tile_fields(layer: LayerSpec, view: FieldView) -> dict[str, str]:
    """Return every attribute a tile of this layer may carry, with its type (TileJSON `fields`)."""
    fields = {"name": "String", "external_id": "String"}
    fields |= {n: _FIELD_TYPES.get(k, "Boolean") for n, k in tile_properties(layer, view).items()}
    if layer.status is not None:
        fields |= {"status": "String", "stale": "Boolean"}
        if view.status_value:
            fields["status_value"] = "Number"
    if layer.geometry is GeometryKind.POINT:
        fields |= {"cluster": "Boolean", "point_count": "Number"}
        if layer.status is not None:
            fields |= {f"count_{s}": "Number" for s in layer.status.values} | {"count_stale": "Number"}
    return fields


def _property(table: FromClause, name: str, kind: str) -> ColumnElement[Any]:
    """Return a property as a typed column; a stored value of the wrong JSON type becomes NULL."""
    value = table.c.properties[name]
    if kind in ("string", "datetime"):
        text_value: ColumnElement[Any] = value.astext
        return text_value
    json_type = "boolean" if kind == "boolean" else "number"
    typed = value.astext.cast(_SQL_TYPES[kind] if kind != "integer" else Float)
    if kind == "integer":
        typed = case((func.abs(typed) < 2**53, typed.cast(BigInteger)))
    return case((func.jsonb_typeof(value) == json_type, typed))


def _attributes(layer: LayerSpec, view: FieldView, table: FromClause) -> list[ColumnElement[Any]]:
    cols: list[ColumnElement[Any]] = [table.c.name.label("name"), table.c.external_id.label("external_id")]
    cols += [_property(table, n, k).label(n) for n, k in tile_properties(layer, view).items()]
    if layer.status is not None:
        cols.append(asset_status.c.status.label("status"))
        if view.status_value:
            cols.append(asset_status.c.value.label("status_value"))
        cols.append(stale_expression(layer, asset_status.c.observed_at).label("stale"))
    return cols


def _envelope(key: TileKey) -> ColumnElement[Any]:
    return func.ST_TileEnvelope(
        bindparam("tile_z", key.z, Integer),
        bindparam("tile_x", key.x, Integer),
        bindparam("tile_y", key.y, Integer),
    )


def _box(bbox: BBox, name: str) -> ColumnElement[Any]:
    """Return a bound lon/lat envelope; the && test on it uses the (layer_id, geom) GiST index."""
    corners = [bindparam(f"{name}_{i}", v, Float) for i, v in enumerate(bbox)]
    return func.ST_MakeEnvelope(*corners, literal(4326, Integer))


def _mvt_geom(layer: LayerSpec, geom_4326: ColumnElement[Any], key: TileKey) -> ColumnElement[Any]:
    geom: ColumnElement[Any] = func.ST_Transform(geom_4326, literal(3857, Integer))
    if layer.geometry is not GeometryKind.POINT:
        # One MVT unit is the finest detail a tile keeps; simplify to it before clipping.
        tolerance = bindparam("tolerance_m", tile_size_m(key.z) / EXTENT, Float)
        geom = func.ST_Simplify(geom, tolerance, true())
    return func.ST_AsMVTGeom(geom, _envelope(key), literal(EXTENT, Integer), literal(BUFFER, Integer), true())


def _where(layer: LayerSpec, table: Table, box: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    where = [
        table.c.layer_id == bindparam("layer_id", layer.id, Text),
        table.c.geom.op("&&", return_type=Boolean)(box),
    ]
    if layer.storage is Storage.AREAS:
        where.append(table.c.deleted_at.is_(None))
    return where


def _with_status(layer: LayerSpec, source: FromClause) -> FromClause:
    if layer.status is None:
        return source
    return source.outerjoin(asset_status, asset_status.c.asset_id == source.c.id)


def _features(
    layer: LayerSpec, view: FieldView, key: TileKey, cap: int | None = None, ids: Select[Any] | None = None
) -> Select[Any]:
    """Return the tile's features: id, MVT geometry and attributes, over the buffered tile box.

    The hits are fetched first (at most cap + 1, or only `ids`), so live status is looked up only for them.
    """
    table = source_table(layer)
    box = _box(bounds_lonlat(key, BUFFER_FRACTION), "buffered")
    columns = [table.c.id, table.c.geom, table.c.name, table.c.external_id, table.c.properties]
    found = select(*columns).where(*_where(layer, table, box))
    if ids is not None:
        found = found.where(table.c.id.in_(ids))
    hits = (found.limit(cap + 1) if cap is not None else found).cte("hits").prefix_with("MATERIALIZED")
    return select(
        hits.c.id.label("id"),
        _mvt_geom(layer, hits.c.geom, key).label("geom"),
        *_attributes(layer, view, hits),
    ).select_from(_with_status(layer, hits))


def _as_mvt(rows: Subquery, layer: LayerSpec, *order: ColumnElement[Any]) -> ColumnElement[Any]:
    """Return ST_AsMVT over `rows` with the asset id as feature id, its features in `order`."""
    mvt = func.ST_AsMVT(
        rows.table_valued(),
        literal(layer.id, Text),
        literal(EXTENT, Integer),
        literal("geom", Text),
        literal("id", Text),
    )
    # Features in a fixed order: the same data gives the same bytes, hence the same ETag.
    return mvt.aggregate_order_by(*order)


def raw_tile_statement(layer: LayerSpec, view: FieldView, key: TileKey, cap: int | None) -> Select[Any]:
    """Return SQL for (features considered, tile bytes); with `cap`, at most cap + 1 are considered."""
    rows = _features(layer, view, key, cap).subquery("tile_rows")
    return select(func.count().label("n"), _as_mvt(rows, layer, rows.c.id).label("mvt")).select_from(rows)


def _cell(value: ColumnElement[Any], cells: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.floor(value * cells).cast(BigInteger)


def _cell_columns(lon: ColumnElement[Any], lat: ColumnElement[Any], z: int) -> list[ColumnElement[Any]]:
    """Return the cluster cell of a point: a grid aligned with the tiles, CLUSTER_GRID cells per tile."""
    cells = bindparam("cells", float((1 << z) * CLUSTER_GRID), Float)
    pi = func.pi(type_=Float)
    # Web Mercator row as a fraction of the world, north at 0: the grid follows tile rows exactly.
    mercator = func.ln(func.tan(pi / 4.0 + func.radians(lat, type_=Float) / 2.0, type_=Float), type_=Float)
    row = (1.0 - mercator / pi) / 2.0
    return [_cell((lon + 180.0) / 360.0, cells).label("cx"), _cell(row, cells).label("cy")]


def _typed_null(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(null(), column.type).label(column.name)


def _cluster_cells(layer: LayerSpec, key: TileKey) -> tuple[CTE, list[str]]:
    """Return the tile's points grouped by cell (count, mean position, counts by status), and those names."""
    table = source_table(layer)
    # The bbox corner is the point itself, and unlike ST_X it also takes a stray MultiPoint.
    lon, lat = func.ST_XMin(table.c.geom), func.ST_YMin(table.c.geom)
    status: list[ColumnElement[Any]] = []
    if layer.status is not None:
        stale = stale_expression(layer, asset_status.c.observed_at)
        status = [asset_status.c.status.label("status"), stale.label("stale")]
    points = (
        select(table.c.id, lon.label("lon"), lat.label("lat"), *status, *_cell_columns(lon, lat, key.z))
        .select_from(_with_status(layer, table))
        .where(*_where(layer, table, _box(bounds_lonlat(key), "tile")))
        .cte("points")
    )
    counts: list[ColumnElement[Any]] = []
    if layer.status is not None:
        counts = [
            func.count().filter(points.c.status == literal(v, Text)).label(f"count_{v}")
            for v in layer.status.values
        ]
        counts.append(func.count().filter(points.c.stale).label("count_stale"))
    cells = select(
        func.count().label("point_count"),
        func.avg(points.c.lon).label("lon"),
        func.avg(points.c.lat).label("lat"),
        func.min(points.c.id).label("only_id"),
        *counts,
    ).group_by(points.c.cx, points.c.cy)
    return cells.cte("cells"), ["point_count", *(c.name for c in counts)]


def cluster_tile_statement(layer: LayerSpec, view: FieldView, key: TileKey) -> Select[Any]:
    """Return SQL for a point tile drawn as clusters with counts by status; lone points stay features."""
    cells, counts = _cluster_cells(layer, key)
    singles = _features(layer, view, key, ids=select(cells.c.only_id).where(cells.c.point_count == 1))
    centre = func.ST_SetSRID(func.ST_MakePoint(cells.c.lon, cells.c.lat), literal(4326, Integer))
    clusters = select(
        cast(null(), BigInteger).label("id"),
        _mvt_geom(layer, centre, key).label("geom"),
        *(_typed_null(c) for c in list(singles.selected_columns)[2:]),
        true().label("cluster"),
        *(cells.c[name] for name in counts),
    ).where(cells.c.point_count > 1)
    singles = singles.add_columns(
        cast(null(), Boolean).label("cluster"), *(cast(null(), BigInteger).label(n) for n in counts)
    )
    rows = union_all(clusters, singles).subquery("tile_rows")
    mvt = _as_mvt(rows, layer, rows.c.id.asc().nulls_first(), rows.c.geom)
    return select(mvt.label("mvt")).select_from(rows)


def build_layer_tile(
    conn: Connection, layer: LayerSpec, view: FieldView, key: TileKey, cluster_above: int = CLUSTER_ABOVE
) -> bytes:
    """Return one layer's MVT bytes for a tile (empty outside the layer's zoom range or data)."""
    if not layer.min_zoom <= key.z <= layer.max_zoom:
        return b""
    cap = cluster_above if layer.geometry is GeometryKind.POINT else None
    row = conn.execute(raw_tile_statement(layer, view, key, cap)).one()
    if cap is None or row.n <= cap:
        return bytes(row.mvt)
    return bytes(conn.execute(cluster_tile_statement(layer, view, key)).scalar_one())


def render_tile(
    conn: Connection, parts: Sequence[tuple[LayerSpec, FieldView]], key: TileKey, cache: TileCache = CACHE
) -> Tile:
    """Return the tile of one or more layers as a caller with these views sees it, from cache when fresh."""
    cache_key = cache.key(parts, key)
    hit = cache.get(cache_key)
    if hit is not None:
        return hit
    data = b"".join(build_layer_tile(conn, layer, view, key) for layer, view in parts)
    tile = Tile.of(data, live=any(layer.has_status for layer, _ in parts))
    cache.put(cache_key, tile)
    return tile
