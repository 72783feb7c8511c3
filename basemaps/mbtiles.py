"""Read-only access to MBTiles archives (SQLite) and PMTiles archives (the protomaps reader)."""

from __future__ import annotations

import mmap
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmtiles.reader import Reader as PMTilesReader
from pmtiles.tile import Compression, MagicNumberNotFound, SpecVersionUnsupported, TileType

from basemaps.errors import SourceUnreadable

MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "pbf": "application/vnd.mapbox-vector-tile",
}
_GZIP_MAGIC = b"\x1f\x8b"
_PMTILES_FORMATS = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp", TileType.MVT: "pbf"}


@dataclass(frozen=True, slots=True)
class ArchiveInfo:
    """What an archive holds: tile format, zoom range, bounds and attribution."""

    format: str  # png | jpg | webp | pbf
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float] | None
    attribution: str | None


@dataclass(frozen=True, slots=True)
class TileData:
    """One stored tile: its bytes, media type and content encoding (gzip for most vector archives)."""

    data: bytes
    media_type: str
    encoding: str | None


def _readable(path: Path, suffix: str) -> Path:
    """Return the resolved path of a local archive file, or raise SourceUnreadable."""
    if path.suffix.lower() != suffix or not path.is_file():
        raise SourceUnreadable(
            f"the {suffix} archive {path.name} is missing", f"arsip {suffix} {path.name} tidak ada"
        )
    return path.resolve()


@contextmanager
def _mbtiles(path: Path) -> Iterator[sqlite3.Connection]:
    """Open an MBTiles file read-only (SQLite URI mode=ro: no journal, no writes, no file created)."""
    uri = f"{_readable(path, '.mbtiles').as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            yield db
    except sqlite3.DatabaseError:
        raise SourceUnreadable(
            f"{path.name} is not a readable MBTiles file", f"{path.name} bukan berkas MBTiles yang terbaca"
        ) from None


def mbtiles_info(path: Path) -> ArchiveInfo:
    """Return the MBTiles metadata that a basemap listing and a style need."""
    with _mbtiles(path) as db:
        meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
    return ArchiveInfo(
        format=_known_format(str(meta.get("format", "png")).lower()),
        min_zoom=_int(meta.get("minzoom"), 0),
        max_zoom=_int(meta.get("maxzoom"), 22),
        bounds=_bounds(meta.get("bounds")),
        attribution=meta.get("attribution"),
    )


def mbtiles_tile(path: Path, z: int, x: int, y: int) -> TileData | None:
    """Return the tile at XYZ z/x/y, or None; MBTiles rows count from the south (TMS)."""
    with _mbtiles(path) as db:
        fmt = _known_format(_format_of(db))
        row = db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, 2**z - 1 - y),
        ).fetchone()
    if row is None or row[0] is None:
        return None
    data = bytes(row[0])
    return TileData(data, MEDIA_TYPES[fmt], "gzip" if data.startswith(_GZIP_MAGIC) else None)


def pmtiles_info(path: Path) -> ArchiveInfo:
    """Return the PMTiles header facts that a basemap listing and a style need."""
    with _pmtiles(path) as reader:
        # The protomaps reader is not annotated.
        header = reader.header()  # type: ignore[no-untyped-call]
        metadata: dict[str, Any] = reader.metadata()  # type: ignore[no-untyped-call]
    bounds = tuple(header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
    return ArchiveInfo(
        format=_PMTILES_FORMATS.get(header["tile_type"], "png"),
        min_zoom=int(header["min_zoom"]),
        max_zoom=int(header["max_zoom"]),
        bounds=(bounds[0], bounds[1], bounds[2], bounds[3]),
        attribution=metadata.get("attribution"),
    )


def pmtiles_tile(path: Path, z: int, x: int, y: int) -> TileData | None:
    """Return the tile at XYZ z/x/y, or None."""
    with _pmtiles(path) as reader:
        header = reader.header()  # type: ignore[no-untyped-call]
        data = reader.get(z, x, y)  # type: ignore[no-untyped-call]
    if not data:
        return None
    fmt = _PMTILES_FORMATS.get(header["tile_type"])
    if fmt is None:
        raise SourceUnreadable(
            f"{path.name} holds an unsupported tile type", f"jenis ubin {path.name} tak didukung"
        )
    encoding = "gzip" if header["tile_compression"] == Compression.GZIP else None
    return TileData(bytes(data), MEDIA_TYPES[fmt], encoding)


@contextmanager
def _pmtiles(path: Path) -> Iterator[PMTilesReader]:
    resolved = _readable(path, ".pmtiles")
    try:
        with resolved.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            yield PMTilesReader(lambda offset, length: mapped[offset : offset + length])  # type: ignore[no-untyped-call]
    except (OSError, ValueError, struct.error, MagicNumberNotFound, SpecVersionUnsupported):
        raise SourceUnreadable(
            f"{path.name} is not a readable PMTiles file", f"{path.name} bukan berkas PMTiles yang terbaca"
        ) from None


def _format_of(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
    return str(row[0]).lower() if row else "png"


def _known_format(fmt: str) -> str:
    fmt = {"jpeg": "jpg", "mvt": "pbf"}.get(fmt, fmt)
    if fmt not in MEDIA_TYPES:
        raise SourceUnreadable(
            f"unsupported tile format {fmt[:20]!r}", f"format ubin {fmt[:20]!r} tak didukung"
        )
    return fmt


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _bounds(value: str | None) -> tuple[float, float, float, float] | None:
    try:
        west, south, east, north = (float(v) for v in (value or "").split(","))
    except ValueError:
        return None
    return west, south, east, north
