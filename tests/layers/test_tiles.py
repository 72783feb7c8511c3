"""Vector tiles built by PostGIS: ids, attributes per caller, buffer, clusters, a cache that never leaks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from sqlalchemy import Connection, text

from geo.tiles import BUFFER_FRACTION, TMS, TileKey, bounds_3857, bounds_lonlat
from layers.access.policy import ANONYMOUS, FieldView, field_view, principal_for
from layers.catalog import LAYERS
from layers.live.status import StatusReport, write_reports
from layers.tiles.cache import Tile, TileCache
from layers.tiles.render import build_layer_tile, render_tile

ADMIN = principal_for("admin", ["admin"], kind="key")
ANALYST = principal_for("ana", ["bpprd-analyst"], kind="user")
BPPRD_VIEWER = principal_for("vera", ["bpprd-viewer"], kind="user")
CAMERA = '{"camera_id": "E1", "view_direction_deg": 0, "fov_deg": 60, "range_m": 50}'


def decode(tmp_path: Path, key: TileKey, data: bytes, layer: str) -> Any:
    """Return a tile layer as a GeoDataFrame in EPSG:3857, read by GDAL's MVT driver, buffer kept."""
    path = tmp_path / str(key.z) / str(key.x) / f"{key.y}.mvt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return pyogrio.read_dataframe(path, layer=layer, CLIP="NO")


def first_asset(conn: Connection, layer: str) -> tuple[int, float, float]:
    row = conn.execute(
        text("SELECT id, ST_X(geom), ST_Y(geom) FROM assets WHERE layer_id = :l ORDER BY id LIMIT 1"),
        {"l": layer},
    ).one()
    return int(row[0]), float(row[1]), float(row[2])


def tile_of(lon: float, lat: float, z: int) -> TileKey:
    t = TMS.tile(lon, lat, z)
    return TileKey(t.z, t.x, t.y)


def tile(conn: Connection, layer_id: str, key: TileKey, principal: Any = ADMIN, **kw: Any) -> bytes:
    layer = LAYERS[layer_id]
    return build_layer_tile(conn, layer, field_view(principal, layer), key, **kw)


def add_camera(conn: Connection, lon: float, lat: float, external_id: str) -> int:
    return int(
        conn.execute(
            text(
                "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency) VALUES "
                "('cctv', :e, 'edge camera', ST_SetSRID(ST_MakePoint(:x, :y), 4326), :p, 'kominfo') "
                "RETURNING id"
            ),
            {"e": external_id, "x": lon, "y": lat, "p": CAMERA},
        ).scalar_one()
    )


def test_point_features_carry_asset_id_key_attributes_and_live_status(
    conn: Connection, tmp_path: Path
) -> None:
    asset_id, lon, lat = first_asset(conn, "dumping_points")
    key = tile_of(lon, lat, 16)
    frame = decode(tmp_path, key, tile(conn, "dumping_points", key), "dumping_points")
    row = frame[frame["mvt_id"] == asset_id].iloc[0]
    assert {"name", "external_id", "tps_type", "capacity_m3", "status", "status_value", "stale"} <= set(frame)
    assert row["status"] in ("empty", "half", "full", "overflow") and row["external_id"]
    assert "address" not in frame  # long texts stay in the feature API


@pytest.mark.parametrize(
    ("principal", "sees_amounts"), [(ANALYST, True), (BPPRD_VIEWER, False)], ids=["analyst", "viewer"]
)
def test_hidden_attributes_never_reach_a_tile(
    conn: Connection, tmp_path: Path, principal: Any, sees_amounts: bool
) -> None:
    _, lon, lat = first_asset(conn, "taxpayers")
    key = tile_of(lon, lat, 15)
    frame = decode(tmp_path, key, tile(conn, "taxpayers", key, principal), "taxpayers")
    assert len(frame) > 0 and "business_name" in frame
    assert ("tax_rate_pct" in frame) is sees_amounts
    assert ("status_value" in frame) is sees_amounts


def test_tile_edge_carries_the_buffer(conn: Connection, tmp_path: Path) -> None:
    _, lon, lat = first_asset(conn, "cctv")
    key = tile_of(lon, lat, 16)
    west, south, east, north = bounds_lonlat(key)
    width = east - west
    inside_buffer = add_camera(conn, east + width * BUFFER_FRACTION * 0.5, (south + north) / 2, "EDGE-IN")
    beyond_buffer = add_camera(conn, east + width * BUFFER_FRACTION * 2, (south + north) / 2, "EDGE-OUT")
    frame = decode(tmp_path, key, tile(conn, "cctv", key), "cctv")
    buffered = frame[frame["mvt_id"] == inside_buffer]
    assert len(buffered) == 1 and buffered.geometry.iloc[0].x > bounds_3857(key)[2]
    assert beyond_buffer not in set(frame["mvt_id"])


def test_empty_tile_has_no_bytes(conn: Connection) -> None:
    assert tile(conn, "cctv", TileKey(10, 0, 0)) == b""


def test_tile_below_the_layer_min_zoom_is_empty(conn: Connection) -> None:
    _, lon, lat = first_asset(conn, "taxpayers")
    assert LAYERS["taxpayers"].min_zoom == 10
    assert tile(conn, "taxpayers", tile_of(lon, lat, 9)) == b""


def _points_in(conn: Connection, layer: str, key: TileKey) -> int:
    w, s, e, n = bounds_lonlat(key)
    sql = "SELECT count(*) FROM assets WHERE layer_id = :l AND geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
    return int(conn.execute(text(sql), {"l": layer, "w": w, "s": s, "e": e, "n": n}).scalar_one())


def test_clusters_count_every_point_of_the_tile(conn: Connection, tmp_path: Path) -> None:
    key = tile_of(128.18, -3.70, 12)
    frame = decode(tmp_path, key, tile(conn, "taxpayers", key, cluster_above=100), "taxpayers")
    clusters = frame[frame["cluster"] == 1]
    singles = frame[frame["cluster"] != 1]
    assert len(clusters) > 0 and clusters["point_count"].min() >= 2
    assert singles["mvt_id"].notna().all()  # a lone point stays a feature with its id
    assert int(clusters["point_count"].sum()) + len(singles) == _points_in(conn, "taxpayers", key) > 100


def test_cluster_counts_by_status_add_up(conn: Connection, tmp_path: Path) -> None:
    key = tile_of(128.18, -3.70, 12)
    frame = decode(tmp_path, key, tile(conn, "taxpayers", key, cluster_above=100), "taxpayers")
    clusters = frame[frame["cluster"] == 1]
    by_status = clusters["count_online"] + clusters["count_offline"]
    assert (by_status <= clusters["point_count"]).all() and by_status.sum() > 0
    assert (clusters["count_stale"] <= clusters["point_count"]).all()
    assert "business_name" not in clusters.dropna(axis=1, how="all")  # no attributes of members leak


def test_polygon_tiles_are_clipped_to_the_buffered_tile(conn: Connection, tmp_path: Path) -> None:
    key = tile_of(128.18, -3.70, 15)
    frame = decode(tmp_path, key, tile(conn, "districts", key), "districts")
    west, south, east, north = bounds_3857(key)
    pad = (east - west) * BUFFER_FRACTION * 1.01
    minx, miny, maxx, maxy = frame.total_bounds
    assert len(frame) >= 1 and minx >= west - pad and maxx <= east + pad and miny >= south - pad
    assert maxy <= north + pad


def _report(conn: Connection, asset_id: int, status: str) -> None:
    at = datetime.now(UTC) + timedelta(seconds=2)
    dlhp = principal_for("key:tps", ["dlhp-operator"], kind="key")
    [result] = write_reports(
        conn, dlhp, [StatusReport(status=status, observed_at=at, source="t", asset_id=asset_id)]
    )
    assert result.outcome == "accepted"


def test_status_change_changes_the_tile(conn: Connection) -> None:
    asset_id, lon, lat = first_asset(conn, "dumping_points")
    key = tile_of(lon, lat, 16)
    before = tile(conn, "dumping_points", key)
    current = conn.execute(
        text("SELECT status FROM asset_status WHERE asset_id = :a"), {"a": asset_id}
    ).scalar()
    _report(conn, asset_id, "overflow" if current != "overflow" else "empty")
    assert tile(conn, "dumping_points", key) != before


def test_same_data_gives_the_same_bytes(conn: Connection) -> None:
    key = tile_of(128.18, -3.70, 13)
    assert tile(conn, "taxpayers", key) == tile(conn, "taxpayers", key)


def test_cache_serves_each_field_view_its_own_tile(conn: Connection) -> None:
    cache = TileCache()
    layer = LAYERS["taxpayers"]
    _, lon, lat = first_asset(conn, "taxpayers")
    key = tile_of(lon, lat, 15)
    rich = render_tile(conn, [(layer, field_view(ANALYST, layer))], key, cache)
    poor = render_tile(conn, [(layer, field_view(BPPRD_VIEWER, layer))], key, cache)
    assert len(cache) == 2 and rich.etag != poor.etag and len(poor.data) < len(rich.data)


def test_cache_serves_a_tile_again_until_the_layer_is_bumped(conn: Connection) -> None:
    cache = TileCache()
    layer = LAYERS["cctv"]
    parts = [(layer, field_view(ANONYMOUS, layer))]
    key = tile_of(128.18, -3.70, 14)
    first = render_tile(conn, parts, key, cache)
    assert render_tile(conn, parts, key, cache) is first
    cache.bump("cctv")
    assert render_tile(conn, parts, key, cache) is not first


def test_live_tiles_expire_before_static_ones() -> None:
    now = [0.0]
    cache = TileCache(live_ttl_s=5, static_ttl_s=300, clock=lambda: now[0])
    view = FieldView(properties=())
    live_key = cache.key([(LAYERS["cctv"], view)], TileKey(1, 0, 0))
    static_key = cache.key([(LAYERS["districts"], view)], TileKey(1, 0, 0))
    cache.put(live_key, Tile.of(b"live", live=True))
    cache.put(static_key, Tile.of(b"static", live=False))
    now[0] = 6.0
    assert cache.get(live_key) is None and cache.get(static_key) is not None


def test_cache_drops_least_recently_used_past_its_budget() -> None:
    cache = TileCache(max_bytes=8000)
    view = FieldView(properties=())
    keys = [cache.key([(LAYERS["districts"], view)], TileKey(4, x, 0)) for x in range(9)]
    for k in keys[:8]:
        cache.put(k, Tile.of(b"x" * 1000, live=False))
    cache.get(keys[0])
    cache.put(keys[8], Tile.of(b"y" * 1000, live=False))
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) is not None and cache.get(keys[8]) is not None


def _add_area(conn: Connection, deleted: bool) -> int:
    sql = (
        "INSERT INTO areas (layer_id, name, geom, properties, agency, created_by, updated_by, deleted_at) "
        "VALUES ('response_areas', 'banjir', "
        "ST_Buffer(ST_SetSRID(ST_MakePoint(128.18, -3.70), 4326), 0.002), "
        "'{\"state\": \"active\", \"hazard\": \"banjir\"}', 'bpbd', 't', 't', "
        "CASE WHEN :deleted THEN now() END) RETURNING id"
    )
    return int(conn.execute(text(sql), {"deleted": deleted}).scalar_one())


def test_drawn_areas_are_tiled_until_deleted(conn: Connection, tmp_path: Path) -> None:
    live, gone = _add_area(conn, deleted=False), _add_area(conn, deleted=True)
    key = tile_of(128.18, -3.70, 15)
    frame = decode(tmp_path, key, tile(conn, "response_areas", key), "response_areas")
    assert set(frame["mvt_id"]) == {live} and gone != live
    assert frame["hazard"].iloc[0] == "banjir" and frame.geometry.iloc[0].geom_type == "Polygon"
