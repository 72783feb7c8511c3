"""Tile math: parsing z/x/y, bounds, and the tiles a box touches."""

from __future__ import annotations

import pytest

from geo.tiles import (
    InvalidTile,
    TileKey,
    bounds_3857,
    bounds_lonlat,
    parse_tile,
    span_lonlat,
    tile_matrix_set_json,
)


@pytest.mark.parametrize(
    ("z", "x", "y"),
    [
        ("a", "0", "0"),
        ("-1", "0", "0"),
        ("1.5", "0", "0"),
        ("", "0", "0"),
        ("25", "0", "0"),
        ("1", "2", "0"),
        ("1", "0", "2"),
        ("0", "1", "0"),
        ("1" * 10, "0", "0"),
        ("٣", "0", "0"),
    ],
)
def test_malformed_or_out_of_range_tiles_are_refused(z: str, x: str, y: str) -> None:
    with pytest.raises(InvalidTile):
        parse_tile(z, x, y)


def test_zoom_above_a_given_max_is_refused() -> None:
    with pytest.raises(InvalidTile):
        parse_tile("17", "0", "0", max_zoom=16)


def test_good_tile_parses() -> None:
    assert parse_tile("14", "14025", "8360") == TileKey(14, 14025, 8360)
    assert str(TileKey(14, 14025, 8360)) == "14/14025/8360"


def test_world_tile_bounds() -> None:
    west, south, east, north = bounds_lonlat(TileKey(0, 0, 0))
    assert (west, east) == pytest.approx((-180, 180)) and north == pytest.approx(85.0511287798, abs=1e-9)
    assert bounds_3857(TileKey(0, 0, 0))[2] == pytest.approx(20037508.342789244)


def test_buffer_widens_bounds_by_a_fraction_of_the_tile() -> None:
    plain, wide = bounds_3857(TileKey(10, 876, 522)), bounds_3857(TileKey(10, 876, 522), buffer=0.5)
    assert wide[2] - wide[0] == pytest.approx(2 * (plain[2] - plain[0]))


def test_span_of_a_box_holds_its_tiles() -> None:
    span = span_lonlat((128.10, -3.80, 128.35, -3.60), 12)
    assert span.count == (span.max_x - span.min_x + 1) * (span.max_y - span.min_y + 1) > 1
    assert TileKey(12, 3506, 2090) in set(span.keys())


def test_tile_matrix_set_is_web_mercator_quad() -> None:
    doc = tile_matrix_set_json()
    assert doc["id"] == "WebMercatorQuad" and doc["crs"].endswith("EPSG/0/3857")
    assert len(doc["tileMatrices"]) == 25


def test_buffered_bounds_at_the_antimeridian_are_clamped_not_wrapped() -> None:
    west, _, east, _ = bounds_lonlat(TileKey(3, 7, 3), buffer=1 / 64)
    assert west < 135 and east == 180.0
