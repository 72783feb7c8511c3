"""Web Mercator tile math on morecantile's WebMercatorQuad: parsing z/x/y, bounds, tiles a box touches."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import morecantile
from pyproj import Transformer

from geo.bbox import BBox
from geo.digits import whole_number

TMS = morecantile.tms.get("WebMercatorQuad")
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MAX_ZOOM = 24
EXTENT = 4096  # MVT grid units across a tile
BUFFER = 64  # MVT grid units drawn beyond each tile edge
BUFFER_FRACTION = BUFFER / EXTENT
MAX_LAT = 85.0511287798066


class InvalidTile(ValueError):
    """A z/x/y that names no tile; `reason_id` holds the Indonesian text."""

    def __init__(self, reason: str, reason_id: str) -> None:
        super().__init__(reason)
        self.reason_id = reason_id


@dataclass(frozen=True, slots=True, order=True)
class TileKey:
    """One tile of WebMercatorQuad in XYZ order (row 0 at the north)."""

    z: int
    x: int
    y: int

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


@dataclass(frozen=True, slots=True)
class TileSpan:
    """An inclusive block of tiles at one zoom."""

    z: int
    min_x: int
    min_y: int
    max_x: int
    max_y: int

    @property
    def count(self) -> int:
        """Return how many tiles the span holds."""
        return (self.max_x - self.min_x + 1) * (self.max_y - self.min_y + 1)

    def keys(self) -> Iterator[TileKey]:
        """Yield every tile of the span, row by row."""
        for y in range(self.min_y, self.max_y + 1):
            for x in range(self.min_x, self.max_x + 1):
                yield TileKey(self.z, x, y)

    def union(self, other: TileSpan) -> TileSpan:
        """Return the smallest span holding both (same zoom)."""
        return TileSpan(
            self.z,
            min(self.min_x, other.min_x),
            min(self.min_y, other.min_y),
            max(self.max_x, other.max_x),
            max(self.max_y, other.max_y),
        )


def _integer(name: str, text: str) -> int:
    value = whole_number(text, 9)
    if value is None:
        raise InvalidTile(
            f"tile {name} must be a non-negative integer, got {text[:20]!r}",
            f"{name} ubin harus bilangan bulat non-negatif, bukan {text[:20]!r}",
        )
    return value


def parse_tile(z: str, x: str, y: str, max_zoom: int = MAX_ZOOM) -> TileKey:
    """Return the tile named by path texts; raise InvalidTile when malformed or out of range."""
    key = TileKey(_integer("z", z), _integer("x", x), _integer("y", y))
    limit = min(max_zoom, MAX_ZOOM)
    if key.z > limit:
        raise InvalidTile(f"zoom {key.z} is above {limit}", f"zoom {key.z} di atas {limit}")
    size = 1 << key.z
    if key.x >= size or key.y >= size:
        raise InvalidTile(
            f"tile {key} is outside the grid: x and y run 0..{size - 1} at zoom {key.z}",
            f"ubin {key} di luar kisi: x dan y 0..{size - 1} pada zoom {key.z}",
        )
    return key


def bounds_lonlat(key: TileKey, buffer: float = 0.0) -> BBox:
    """Return the tile's (west, south, east, north), widened by `buffer` tile widths on each side."""
    west, south, east, north = bounds_3857(key, buffer)
    to_lonlat = _to_lonlat()
    _, lat_s = to_lonlat.transform(0.0, south)
    _, lat_n = to_lonlat.transform(0.0, north)
    # Longitude is linear in x; computed here so a buffer past the antimeridian is clamped, not wrapped.
    half_world = -_grid(0)[0]
    return (max(west / half_world * 180.0, -180.0), lat_s, min(east / half_world * 180.0, 180.0), lat_n)


def bounds_3857(key: TileKey, buffer: float = 0.0) -> BBox:
    """Return the tile's bounds in EPSG:3857 metres, widened by `buffer` tile widths on each side."""
    b = TMS.xy_bounds(morecantile.Tile(key.x, key.y, key.z))
    pad = (b.right - b.left) * buffer
    return (b.left - pad, b.bottom - pad, b.right + pad, b.top + pad)


def tile_size_m(z: int) -> float:
    """Return the width of a tile at zoom z in EPSG:3857 metres."""
    return _grid(z)[2]


@lru_cache(maxsize=MAX_ZOOM + 1)
def _grid(z: int) -> tuple[float, float, float]:
    """Return the matrix origin (x, y) and tile width in metres at zoom z."""
    matrix = TMS.matrix(z)
    origin_x, origin_y = matrix.pointOfOrigin
    return float(origin_x), float(origin_y), float(matrix.cellSize * matrix.tileWidth)


def span_3857(bbox_3857: BBox, z: int, buffer: float = BUFFER_FRACTION) -> TileSpan:
    """Return the tiles at zoom z whose buffered extent meets a box given in EPSG:3857 metres."""
    origin_x, origin_y, size = _grid(z)
    pad = size * buffer
    last = (1 << z) - 1

    def clamp(value: float) -> int:
        return min(max(math.floor(value), 0), last)

    west, south, east, north = bbox_3857
    return TileSpan(
        z,
        clamp((west - pad - origin_x) / size),
        clamp((origin_y - north - pad) / size),
        clamp((east + pad - origin_x) / size),
        clamp((origin_y - south + pad) / size),
    )


def to_3857(bbox_lonlat: BBox) -> BBox:
    """Return a lon/lat box in EPSG:3857 metres (latitudes clipped to the Web Mercator range)."""
    west, south, east, north = bbox_lonlat
    to_merc = _to_mercator()
    x0, y0 = to_merc.transform(west, max(south, -MAX_LAT))
    x1, y1 = to_merc.transform(east, min(north, MAX_LAT))
    return (x0, y0, x1, y1)


def span_lonlat(bbox_lonlat: BBox, z: int) -> TileSpan:
    """Return the tiles at zoom z that a lon/lat box lies in (no buffer): a tileset's limits."""
    return span_3857(to_3857(bbox_lonlat), z, buffer=0.0)


@lru_cache(maxsize=1)
def tile_matrix_set_json() -> dict[str, Any]:
    """Return the WebMercatorQuad definition as OGC Two Dimensional Tile Matrix Set 2.0 JSON."""
    doc: dict[str, Any] = TMS.model_dump(mode="json", exclude_none=True)
    return doc


@lru_cache(maxsize=1)
def _to_mercator() -> Transformer:
    return Transformer.from_crs(4326, 3857, always_xy=True)


@lru_cache(maxsize=1)
def _to_lonlat() -> Transformer:
    return Transformer.from_crs(3857, 4326, always_xy=True)
