"""MBTiles and PMTiles archives read read-only: metadata, XYZ rows, encodings, unreadable files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

from basemaps.errors import SourceUnreadable
from basemaps.mbtiles import mbtiles_info, mbtiles_tile, pmtiles_info, pmtiles_tile
from tests.api._map_support import write_mbtiles


def write_pmtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], tile_type: TileType) -> Path:
    with write(str(path)) as writer:
        for (z, x, y), data in sorted(tiles.items(), key=lambda item: zxy_to_tileid(*item[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        header = {
            "tile_type": tile_type,
            "tile_compression": Compression.GZIP if tile_type is TileType.MVT else Compression.NONE,
            "min_lon_e7": 1279000000,
            "min_lat_e7": -38000000,
            "max_lon_e7": 1284000000,
            "max_lat_e7": -34000000,
            "center_zoom": 1,
            "center_lon_e7": 1281800000,
            "center_lat_e7": -37000000,
        }
        writer.finalize(header, {"attribution": "pm test"})
    return path


def test_mbtiles_rows_are_flipped_to_xyz(tmp_path: Path) -> None:
    path = write_mbtiles(tmp_path / "a.mbtiles", {(3, 2, 1): b"north", (3, 2, 6): b"south"})
    tile = mbtiles_tile(path, 3, 2, 1)
    assert tile is not None and tile.data == b"north" and tile.media_type == "image/png"
    assert mbtiles_tile(path, 3, 2, 2) is None


def test_gzipped_vector_mbtiles_tiles_say_so(tmp_path: Path) -> None:
    path = write_mbtiles(tmp_path / "v.mbtiles", {(0, 0, 0): gzip.compress(b"mvt")}, fmt="pbf")
    tile = mbtiles_tile(path, 0, 0, 0)
    assert (
        tile is not None
        and tile.encoding == "gzip"
        and tile.media_type == "application/vnd.mapbox-vector-tile"
    )


def test_mbtiles_is_opened_read_only(tmp_path: Path) -> None:
    path = write_mbtiles(tmp_path / "a.mbtiles", {(0, 0, 0): b"x"})
    path.chmod(0o444)
    assert mbtiles_info(path).format == "png"
    assert not (tmp_path / "a.mbtiles-journal").exists() and not (tmp_path / "a.mbtiles-wal").exists()


@pytest.mark.parametrize("content", [b"", b"not sqlite at all, just text"])
def test_unreadable_mbtiles_is_reported(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.mbtiles"
    path.write_bytes(content)
    with pytest.raises(SourceUnreadable):
        mbtiles_info(path)


def test_missing_archive_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable):
        mbtiles_tile(tmp_path / "none.mbtiles", 0, 0, 0)


def test_pmtiles_tiles_and_header(tmp_path: Path) -> None:
    path = write_pmtiles(tmp_path / "a.pmtiles", {(0, 0, 0): b"zero", (2, 3, 1): b"two"}, TileType.PNG)
    info = pmtiles_info(path)
    tile = pmtiles_tile(path, 2, 3, 1)
    assert (info.format, info.min_zoom, info.max_zoom, info.attribution) == ("png", 0, 2, "pm test")
    assert info.bounds == pytest.approx((127.9, -3.8, 128.4, -3.4))
    assert tile is not None and tile.data == b"two" and tile.encoding is None
    assert pmtiles_tile(path, 2, 0, 0) is None


def test_pmtiles_vector_tiles_keep_their_gzip(tmp_path: Path) -> None:
    path = write_pmtiles(tmp_path / "v.pmtiles", {(0, 0, 0): gzip.compress(b"mvt")}, TileType.MVT)
    tile = pmtiles_tile(path, 0, 0, 0)
    assert tile is not None and tile.encoding == "gzip" and gzip.decompress(tile.data) == b"mvt"


@pytest.mark.parametrize("content", [b"", b"PMTiles but not really"])
def test_unreadable_pmtiles_is_reported(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.pmtiles"
    path.write_bytes(content)
    with pytest.raises(SourceUnreadable):
        pmtiles_info(path)
