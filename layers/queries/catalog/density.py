"""Density and roll-ups: features of a layer by live status per district, village, basin or hexagon.

Counting: a feature counts in every unit it intersects (ST_Intersects), so a line crossing two
districts counts in both, and a point lying exactly on a shared boundary (or a hexagon edge) counts in
each unit it touches. We keep that rather than assigning it to one side arbitrarily: sums over units
may then exceed the layer's total, which a choropleth does not need. Counts per status are for fresh
features only; a feature whose last report is older than the layer's `stale_after` (or that never
reported) counts under `stale`, so count = Σ count_<status> + stale.

Hexagons come from ST_HexagonGrid in EPSG:32752, anchored at that CRS's origin. The grid is generated
over each feature's bounds, which gives exactly the cells of the grid over the layer's extent that
hold at least one feature; empty cells are never returned. A hexagon's id is derived from its (i, j).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import BigInteger, DateTime, Float, Select, Text, and_, cast, func, literal, select, true
from sqlalchemy.sql.elements import ColumnElement

from geo.crs import AMBON_UTM_SRID, STORAGE_SRID
from geo.kinds import GeometryKind
from layers.access.policy import Action, allows
from layers.catalog import districts, river_basins, villages
from layers.catalog.spec import LayerSpec, Storage, Style, Titles
from layers.errors import InvalidInput
from layers.features.queryables import source_table, stale_expression
from layers.queries.params import QueryParams, param, readable_named_layers
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec
from layers.tables import asset_status, assets

Unit = Literal["kecamatan", "kelurahan", "basin", "hexagon"]
UNIT_LAYERS: dict[str, LayerSpec] = {
    "kecamatan": districts.LAYER,
    "kelurahan": villages.LAYER,
    "basin": river_basins.LAYER,
}
# i * HEX_ID_STRIDE + j is unique while |j| < HEX_ID_STRIDE / 2: UTM northings stay below 10^7 m and
# cells are at least 100 m, so j stays below 6 * 10^4.
HEX_ID_STRIDE = 1_000_000
M2_PER_KM2 = 1e6
SUBDIVIDE_VERTICES = 256


class DensityParams(QueryParams):
    """Parameters of the density roll-up."""

    layer: str = param(..., "Lapisan", "Layer", max_length=64)
    by: Unit = param("kecamatan", "Satuan wilayah", "Unit (kecamatan, kelurahan, basin, hexagon)")
    status: str | None = param(None, "Status", "Status", max_length=32)
    hex_size_m: float = param(500.0, "Ukuran heksagon", "Hexagon size", unit="m", ge=100, le=5000)


def _check_status(layer: LayerSpec, status: str | None) -> None:
    """Refuse a status filter the layer does not have (a 400 naming the allowed values)."""
    if status is None:
        return
    values = layer.status.values if layer.status is not None else ()
    if status not in values:
        allowed = ", ".join(values) or "-"
        raise InvalidInput(
            f"status: {status!r} is not a status of {layer.id!r} ({allowed})",
            f"status: {status!r} bukan status lapisan {layer.id!r} ({allowed})",
            parameter="status",
        )


def _features(ctx: QueryContext, layer: LayerSpec, status: str | None) -> Any:
    """The layer's features with their live status and staleness (status columns NULL without status)."""
    table = source_table(layer)
    conditions: list[ColumnElement[bool]] = [table.c.layer_id == layer.id]
    if layer.storage is Storage.AREAS:
        conditions.append(table.c.deleted_at.is_(None))
    if layer.status is None:
        cols = [literal(None, Text).label("status"), literal(False).label("stale")]
        return select(table.c.id, table.c.geom, *cols).where(*conditions).subquery("features")
    now = literal(ctx.now, DateTime(timezone=True))
    stale = stale_expression(layer, asset_status.c.observed_at, now)
    if status is not None:
        conditions.append(asset_status.c.status == status)
    return (
        select(table.c.id, table.c.geom, asset_status.c.status, stale.label("stale"))
        .select_from(table.outerjoin(asset_status, asset_status.c.asset_id == table.c.id))
        .where(*conditions)
        .subquery("features")
    )


def _counts(layer: LayerSpec, f: Any) -> list[ColumnElement[Any]]:
    """Aggregates over joined features `f`: total, then per fresh status and stale when live."""
    out: list[ColumnElement[Any]] = [func.count(f.c.id).label("count")]
    if layer.status is None:
        return out
    fresh = f.c.stale.is_(False)
    for value in layer.status.values:
        out.append(func.count(f.c.id).filter(and_(f.c.status == value, fresh)).label(f"count_{value}"))
    return out


def _columns(layer: LayerSpec) -> tuple[QueryColumn, ...]:
    cols = [
        QueryColumn("unit_name", "string", Titles("Wilayah", "Unit")),
        QueryColumn("count", "integer", Titles("Jumlah", "Count")),
    ]
    if layer.status is not None:
        for value in layer.status.values:
            label = layer.status.labels.get(value, Titles(value, value))
            cols.append(QueryColumn(f"count_{value}", "integer", Titles(f"Jumlah {label.id}", f"{label.en}")))
    cols.append(QueryColumn("per_km2", "number", Titles("Kepadatan", "Density"), "1/km2"))
    if layer.status is not None:
        cols.append(QueryColumn("stale", "integer", Titles("Tanpa laporan baru", "Stale")))
    return tuple(cols)


def _stale(layer: LayerSpec, f: Any) -> list[ColumnElement[Any]]:
    if layer.status is None:
        return []
    return [func.count(f.c.id).filter(f.c.stale.is_(True)).label("stale")]


def _by_units(layer: LayerSpec, unit_layer: LayerSpec, f: Any) -> Select[Any]:
    """Counts per district, village or basin; every unit is returned, empty ones with zero.

    Units are cut into pieces of at most SUBDIVIDE_VERTICES vertices first: a coastline polygon
    tested against 750,000 points is slow, small pieces are fast and let the GiST index work.
    """
    u = assets.alias("unit")
    pieces = (
        select(u.c.id.label("unit_id"), func.ST_Subdivide(u.c.geom, SUBDIVIDE_VERTICES).label("piece"))
        .where(u.c.layer_id == unit_layer.id)
        .cte("pieces")
    )
    # A feature touching several pieces of one unit still counts once in it.
    hits = (
        select(pieces.c.unit_id, f.c.id, f.c.status, f.c.stale)
        .select_from(pieces.join(f, func.ST_Intersects(pieces.c.piece, f.c.geom)))
        .distinct()
        .subquery("hits")
    )
    area_km2 = func.ST_Area(func.ST_Transform(u.c.geom, AMBON_UTM_SRID)) / M2_PER_KM2
    return (
        select(
            u.c.id,
            u.c.geom,
            u.c.name.label("unit_name"),
            *_counts(layer, hits),
            (cast(func.count(hits.c.id), Float) / func.nullif(area_km2, 0)).label("per_km2"),
            *_stale(layer, hits),
        )
        .select_from(u.outerjoin(hits, hits.c.unit_id == u.c.id))
        .where(u.c.layer_id == unit_layer.id)
        .group_by(u.c.id)
    )


def _by_hexagons(layer: LayerSpec, f: Any, size_m: float) -> Select[Any]:
    """Counts per hexagon of the EPSG:32752 grid, non-empty cells only."""
    size = literal(size_m, Float)
    geom_utm = func.ST_Transform(f.c.geom, AMBON_UTM_SRID)
    cell = func.ST_HexagonGrid(size, geom_utm).table_valued("geom", "i", "j").lateral("cell")
    hexagon = func.ST_SetSRID(func.ST_Hexagon(size, cell.c.i, cell.c.j), AMBON_UTM_SRID)
    area_km2 = func.ST_Area(hexagon) / M2_PER_KM2
    return (
        select(
            (cast(cell.c.i, BigInteger) * HEX_ID_STRIDE + cell.c.j).label("id"),
            func.ST_Transform(hexagon, STORAGE_SRID).label("geom"),
            func.concat("H ", cast(cell.c.i, Text), ",", cast(cell.c.j, Text)).label("unit_name"),
            *_counts(layer, f),
            (cast(func.count(f.c.id), Float) / area_km2).label("per_km2"),
            *_stale(layer, f),
        )
        .select_from(f.join(cell, true()))
        .where(func.ST_Intersects(cell.c.geom, geom_utm))
        .group_by(cell.c.i, cell.c.j)
    )


def build(ctx: QueryContext, params: DensityParams) -> QueryAnswer:
    """Return the counts per unit of the chosen layer."""
    layer = readable_named_layers(ctx.principal, (params.layer,), "layer")[0]
    _check_status(layer, params.status)
    f = _features(ctx, layer, params.status)
    if params.by == "hexagon":
        stmt = _by_hexagons(layer, f, params.hex_size_m)
    else:
        unit_layer = UNIT_LAYERS[params.by]
        if not allows(ctx.principal, Action.READ, unit_layer):
            raise InvalidInput(
                f"by: unknown unit {params.by!r}", f"by: satuan {params.by!r} tidak dikenal", parameter="by"
            )
        stmt = _by_units(layer, unit_layer, f)
    return QueryAnswer(statement=stmt, columns=_columns(layer))


QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec(
        id="density",
        title=Titles("Kepadatan dan rekap", "Density and roll-ups"),
        description=Titles(
            "Jumlah fitur suatu lapisan per status untuk tiap kecamatan, kelurahan/desa, DAS atau "
            "heksagon, untuk peta koroplet.",
            "Counts of a layer's features by status per district, village, river basin or hexagon, "
            "for choropleth maps.",
        ),
        owner="kominfo",
        geometry=GeometryKind.POLYGON,
        params=DensityParams,
        build=build,
        style=Style(color="#1565c0", fill_opacity=0.5, line_width=0.8),
        style_attribute=None,
        time_limit_s=20.0,
    ),
)
