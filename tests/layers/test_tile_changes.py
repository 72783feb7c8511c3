"""Which tiles a change touches: the keys status events carry, and that each worker's cache retires."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo.tiles import BUFFER_FRACTION, TMS, TileKey, bounds_lonlat, to_3857
from layers.catalog import LAYERS
from layers.tiles.changes import area_from_json, asset_boxes_3857, changed_tiles, tiles_for_boxes


def first_asset(conn: Connection, layer: str, offset: int = 0) -> tuple[int, float, float]:
    row = conn.execute(
        text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM assets WHERE layer_id = :l ORDER BY id OFFSET :o LIMIT 1"
        ),
        {"l": layer, "o": offset},
    ).one()
    return int(row[0]), float(row[1]), float(row[2])


def tile_of(lon: float, lat: float, z: int) -> TileKey:
    t = TMS.tile(lon, lat, z)
    return TileKey(t.z, t.x, t.y)


def test_status_change_lists_the_asset_tile_at_every_zoom(conn: Connection) -> None:
    asset_id, lon, lat = first_asset(conn, "cctv")
    changes = changed_tiles(conn, LAYERS["cctv"], [asset_id])
    assert changes.ids == (asset_id,) and changes.exact_through == 22
    assert {tile_of(lon, lat, z) for z in range(0, 23)} <= set(changes.tiles)
    assert len(changes.tiles) <= 4 * 23  # a point touches its own tile and at most 3 neighbours in the buffer


def test_keys_start_at_the_layer_min_zoom(conn: Connection) -> None:
    asset_id, _, _ = first_asset(conn, "taxpayers")
    changes = changed_tiles(conn, LAYERS["taxpayers"], [asset_id])
    assert min(k.z for k in changes.tiles) == 10 and changes.spans[0].z == 10


def test_moved_asset_touches_its_old_and_new_tiles(conn: Connection) -> None:
    asset_id, lon, lat = first_asset(conn, "dumping_points")
    before = asset_boxes_3857(conn, LAYERS["dumping_points"], [asset_id])
    conn.execute(
        text("UPDATE assets SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326) WHERE id = :a"),
        {"x": lon + 0.05, "y": lat + 0.03, "a": asset_id},
    )
    changes = changed_tiles(conn, LAYERS["dumping_points"], [asset_id], previous=before)
    old, new = tile_of(lon, lat, 16), tile_of(lon + 0.05, lat + 0.03, 16)
    assert old != new and {old, new} <= set(changes.tiles)


def test_point_in_the_buffer_of_a_neighbour_touches_it_too() -> None:
    key = TileKey(15, 28050, 16720)
    west, south, east, north = bounds_lonlat(key)
    lon = east - (east - west) * BUFFER_FRACTION / 2  # inside the tile, within the east neighbour's buffer
    box = to_3857((lon, (south + north) / 2, lon, (south + north) / 2))
    keys, _, _ = tiles_for_boxes([box], 15, 15)
    assert set(keys) == {key, TileKey(15, 28051, 16720)}


def test_a_far_from_edge_point_touches_one_tile_per_zoom() -> None:
    west, south, east, north = bounds_lonlat(TileKey(15, 28050, 16720))
    centre = ((west + east) / 2, (south + north) / 2)
    keys, _, spans = tiles_for_boxes([to_3857((*centre, *centre))], 15, 15)
    assert keys == (TileKey(15, 28050, 16720),) and spans[0].count == 1


def test_large_change_lists_low_zooms_exactly_and_spans_cover_every_zoom(conn: Connection) -> None:
    ids = [int(i) for i in conn.execute(text("SELECT id FROM assets WHERE layer_id = 'taxpayers'")).scalars()]
    changes = changed_tiles(conn, LAYERS["taxpayers"], ids, max_keys=100)
    assert changes.exact_through is not None and 10 <= changes.exact_through < 22
    assert len(changes.tiles) <= 100 and [s.z for s in changes.spans] == list(range(10, 23))
    _, lon, lat = first_asset(conn, "taxpayers", offset=700)
    deepest = tile_of(lon, lat, 22)
    span = changes.spans[-1]
    assert span.min_x <= deepest.x <= span.max_x and span.min_y <= deepest.y <= span.max_y


def test_change_notice_is_plain_json(conn: Connection) -> None:
    asset_id, _, _ = first_asset(conn, "cctv")
    notice = changed_tiles(conn, LAYERS["cctv"], [asset_id]).as_json()
    assert set(notice) == {"keys", "exact_through", "spans"}
    assert all(isinstance(k, str) and k.count("/") == 2 for k in notice["keys"])
    assert len(notice["spans"]) == 23 and all(len(s) == 5 for s in notice["spans"])


def test_a_notice_read_back_from_an_event_covers_the_same_tiles(conn: Connection) -> None:
    asset_id, lon, lat = first_asset(conn, "cctv")
    changes = changed_tiles(conn, LAYERS["cctv"], [asset_id])
    area = area_from_json(changes.as_json())
    assert area == changes.area() and area.covers(tile_of(lon, lat, 19))
    assert not area.covers(tile_of(lon + 1, lat, 19))


@pytest.mark.parametrize(
    "notice", [None, [], {"keys": "1/2/3", "spans": []}, {"keys": ["1/x/3"], "spans": []}]
)
def test_a_notice_that_cannot_be_read_names_no_area(notice: object) -> None:
    assert area_from_json(notice) is None


def test_unknown_ids_touch_nothing(conn: Connection) -> None:
    changes = changed_tiles(conn, LAYERS["cctv"], [-5])
    assert changes.tiles == () and changes.spans == () and changes.exact_through is None
