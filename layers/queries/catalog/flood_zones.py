"""Flood-risk zones from the DEM, the rivers and the DAS water levels, and the assets that lie in them.

The zones come from a height-above-nearest-river model (see layers.queries.flood_model) and are cached
per set of inputs (layers.queries.flood_cache): a request computes them only when a station's level has
moved into another band since the last set, or the parameters are new.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, model_validator
from sqlalchemy import BigInteger, Select, and_, case, cast, false, func, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from geo.kinds import GeometryKind
from layers.access.policy import Action, allows
from layers.catalog import LAYERS
from layers.catalog.spec import Access, LayerSpec, Storage, Style, Titles
from layers.errors import InvalidInput
from layers.queries.flood_cache import FloodRequest, zone_set_key
from layers.queries.flood_tables import flood_zones
from layers.queries.params import Names, ParamError, QueryParams, param, readable_named_layers
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec
from layers.tables import asset_status, assets

DEFAULT_LAYERS = ("cctv", "dumping_points", "traffic_junctions", "taxpayers")
DEPTH_RANGES = {1: "< 0.5 m", 2: "0.5–1.5 m", 3: "> 1.5 m"}
DEPTH_LABELS = {
    "1": Titles("Dangkal (< 0,5 m)", "Shallow (< 0.5 m)"),
    "2": Titles("Sedang (0,5–1,5 m)", "Moderate (0.5–1.5 m)"),
    "3": Titles("Dalam (> 1,5 m)", "Deep (> 1.5 m)"),
}
DEPTH_STYLE = Style(
    color="#1565c0", by_status={"1": "#90caf9", "2": "#1e88e5", "3": "#0d47a1"}, fill_opacity=0.45
)


class FloodParams(QueryParams):
    """The flood model's parameters and where the water levels come from."""

    distance_m: float = param(500.0, "Jarak dari sungai", "Distance from a river", unit="m", ge=50, le=2000)
    margin_m: float = param(0.5, "Tambahan muka air", "Water-level margin", unit="m", ge=0, le=5)
    level_cm: float | None = param(
        None,
        "Tinggi muka air andaian di semua pos",
        "What-if water level at every station",
        unit="cm",
        ge=0,
        le=2000,
    )
    at: AwareDatetime | None = param(
        None, "Tinggi muka air pada waktu (RFC 3339)", "Water levels at a time (RFC 3339)"
    )

    @model_validator(mode="after")
    def _one_level_source(self) -> FloodParams:
        if self.level_cm is not None and self.at is not None:
            raise ParamError("give level_cm or at, not both", "isi level_cm atau at, jangan keduanya")
        return self


class AssetsAtRiskParams(FloodParams):
    """The flood parameters and the layers whose assets are listed."""

    layers: Names = param(DEFAULT_LAYERS, "Lapisan aset", "Asset layers")


def _request(ctx: QueryContext, params: FloodParams) -> FloodRequest:
    """Return the cache request of validated parameters; a time in the future is refused."""
    if params.at is not None and params.at > ctx.now:
        raise InvalidInput("at: must not be in the future", "at: tidak boleh di masa depan", parameter="at")
    return FloodRequest(params.distance_m, params.margin_m, params.level_cm, params.at)


def _depth_range(depth_class: ColumnElement[Any]) -> ColumnElement[str]:
    """Return the depth range text of a depth class (language-neutral)."""
    return case(*((depth_class == k, text) for k, text in DEPTH_RANGES.items()))


ZONE_COLUMNS = (
    QueryColumn("depth_class", "integer", Titles("Kelas kedalaman", "Depth class")),
    QueryColumn("depth_range", "string", Titles("Rentang kedalaman", "Depth range")),
    QueryColumn("hazard_class", "integer", Titles("Kelas bahaya banjir", "Flood-hazard class")),
    QueryColumn("station_code", "string", Titles("Kode pos duga air", "Station code")),
    QueryColumn("station_name", "string", Titles("Pos duga air", "Station")),
    QueryColumn("river_code", "string", Titles("Kode sungai", "River code")),
    QueryColumn("stage_cm", "number", Titles("Tinggi muka air dipakai", "Water level used"), unit="cm"),
    QueryColumn("max_depth_m", "number", Titles("Kedalaman maksimum", "Maximum depth"), unit="m"),
    QueryColumn("area_ha", "number", Titles("Luas", "Area"), unit="ha"),
)


def build_zones(ctx: QueryContext, params: FloodParams) -> QueryAnswer:
    """Return the flood zones of the requested levels (computed and cached first if new)."""
    key = zone_set_key(ctx.conn, _request(ctx, params))
    z = flood_zones.c
    statement = select(
        cast(z.zone_no, BigInteger).label("id"),
        z.geom.label("geom"),
        z.depth_class,
        _depth_range(z.depth_class).label("depth_range"),
        z.hazard_class,
        z.station_code,
        z.station_name,
        z.river_code,
        z.stage_cm,
        z.max_depth_m,
        z.area_ha,
    ).where(z.set_key == key)
    return QueryAnswer(statement, ZONE_COLUMNS)


ASSET_COLUMNS = (
    QueryColumn("layer", "string", Titles("Lapisan", "Layer")),
    QueryColumn("name", "string", Titles("Nama", "Name")),
    QueryColumn("external_id", "string", Titles("ID eksternal", "External id")),
    QueryColumn("status", "string", Titles("Status", "Status")),
    QueryColumn("depth_class", "integer", Titles("Kelas kedalaman", "Depth class")),
    QueryColumn("hazard_class", "integer", Titles("Kelas bahaya banjir", "Flood-hazard class")),
    QueryColumn("station_code", "string", Titles("Kode pos duga air", "Station code")),
    QueryColumn("max_depth_m", "number", Titles("Kedalaman maksimum zona", "Zone's maximum depth"), unit="m"),
)


def _asset_layers(ctx: QueryContext, params: AssetsAtRiskParams) -> list[LayerSpec]:
    """Return the layers to list: named ones must be readable; unreadable defaults are dropped."""
    if "layers" not in params.model_fields_set:
        return [LAYERS[name] for name in DEFAULT_LAYERS if allows(ctx.principal, Action.READ, LAYERS[name])]
    layers = readable_named_layers(ctx.principal, params.layers)
    for layer in layers:
        if layer.storage is not Storage.ASSETS:
            raise InvalidInput(
                f"layers: {layer.id!r} holds drawn areas, not assets",
                f"layers: {layer.id!r} berisi area gambar, bukan aset",
                parameter="layers",
            )
    return layers


def _hits(layer: LayerSpec, key: str) -> Select[Any]:
    """Return the assets of one layer that intersect a zone of the set, one row per (asset, zone)."""
    z, a = flood_zones.c, assets.c
    return (
        select(
            a.id,
            a.geom,
            a.layer_id,
            a.name,
            a.external_id,
            asset_status.c.status,
            z.zone_no,
            z.depth_class,
            z.hazard_class,
            z.station_code,
            z.max_depth_m,
        )
        .select_from(
            flood_zones.join(
                assets, and_(a.layer_id == layer.id, func.ST_Intersects(a.geom, z.geom))
            ).outerjoin(asset_status, asset_status.c.asset_id == a.id)
        )
        .where(z.set_key == key)
    )


def build_assets_at_risk(ctx: QueryContext, params: AssetsAtRiskParams) -> QueryAnswer:
    """Return each asset of the chosen layers that lies in a flood zone, with its deepest zone."""
    layers = _asset_layers(ctx, params)
    key = zone_set_key(ctx.conn, _request(ctx, params))
    # A caller who may read none of the default layers still gets a well-formed, empty answer.
    parts = [_hits(layer, key) for layer in layers] or [_hits(LAYERS["cctv"], key).where(false())]
    hits = union_all(*parts).subquery("hit")
    worst_first = (
        hits.c.depth_class.desc(),
        hits.c.max_depth_m.desc(),
        hits.c.hazard_class.desc(),
        hits.c.zone_no,
    )
    ranked = select(
        hits, func.row_number().over(partition_by=hits.c.id, order_by=worst_first).label("rank")
    ).subquery("ranked")
    r = ranked.c
    statement = select(
        r.id,
        r.geom,
        r.layer_id.label("layer"),
        r.name,
        r.external_id,
        r.status,
        r.depth_class,
        r.hazard_class,
        r.station_code,
        r.max_depth_m,
    ).where(r.rank == 1)
    return QueryAnswer(statement, ASSET_COLUMNS)


_ZONES = QuerySpec(
    id="flood_zones",
    title=Titles("Zona risiko banjir", "Flood-risk zones"),
    description=Titles(
        "Lahan yang tergenang pada tinggi muka air pos DAS saat ini (atau pada waktu/tinggi tertentu): "
        "lahan dalam jarak tertentu dari sungai yang lebih rendah dari muka air pos terdekat ditambah "
        "margin, dikelaskan menurut kedalaman dan kelas bahaya banjir.",
        "Land under water at the DAS stations' current (or a given) level: land within a distance of a "
        "river lying below the nearest station's water surface plus a margin, classed by depth and by "
        "the flood-hazard raster's class.",
    ),
    owner="bpbd",
    geometry=GeometryKind.POLYGON,
    params=FloodParams,
    build=build_zones,
    style=DEPTH_STYLE,
    access=Access.INTERNAL,
    style_attribute="depth_class",
    labels=DEPTH_LABELS,
    time_limit_s=30.0,
)

_ASSETS = QuerySpec(
    id="assets_at_risk",
    title=Titles("Aset berisiko banjir", "Assets at flood risk"),
    description=Titles(
        "Aset dari lapisan yang boleh Anda lihat (kamera, TPS, simpang, ...) di dalam zona risiko banjir, "
        "dengan kelas kedalaman dan bahaya zonanya.",
        "Assets of the layers you may see (cameras, dumping points, junctions, ...) inside the flood-risk "
        "zones, with their zone's depth and hazard class.",
    ),
    owner="bpbd",
    geometry=GeometryKind.POINT,
    params=AssetsAtRiskParams,
    build=build_assets_at_risk,
    style=DEPTH_STYLE,
    access=Access.INTERNAL,
    style_attribute="depth_class",
    labels=DEPTH_LABELS,
    time_limit_s=30.0,
)

QUERIES: tuple[QuerySpec, ...] = (_ZONES, _ASSETS)
