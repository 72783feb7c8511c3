"""PNG tiles in WebMercatorQuad from a local COG (rio-tiler): colour ramps, class colours and hillshade.

Reads are windowed and use the COG's overviews; a tile that would need more than MAX_READ_PIXELS source
pixels (a zoom far below what the file's overviews support) is refused rather than read.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import rasterio
from morecantile import Tile
from rasterio.errors import RasterioIOError
from rasterio.io import DatasetReader
from rasterio.warp import transform_bounds
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from rio_tiler.utils import render

from basemaps.colormaps import LEGENDS, Legend, grey_legend
from basemaps.errors import InvalidTile, SourceUnreadable
from basemaps.hillshade import DEFAULT_ALTITUDE_DEG, hillshade, mercator_z_factor
from basemaps.raster_values import value_at

TILE_PX = 256
MAX_ZOOM = 22
MAX_READ_PIXELS = 2048 * 2048
COG_SUFFIXES = (".tif", ".tiff")
CACHED_TILES = 1024


@dataclass(frozen=True, slots=True)
class RasterFile:
    """A raster source as basemaps/ needs it: the local COG, what it holds and in which unit."""

    path: Path
    kind: str
    unit: str


@dataclass(frozen=True, slots=True)
class _Version:
    """A file's identity for caches: path, size and modification time."""

    path: str
    size: int
    mtime_ns: int


def styles_for(kind: str) -> tuple[str, ...]:
    """Return the rendering styles a raster kind offers; the first is the default."""
    return ("color", "hillshade") if kind == "dem" else ("color",)


def check_tile(z: int, x: int, y: int) -> None:
    """Raise InvalidTile unless z/x/y address a WebMercatorQuad tile within 0..MAX_ZOOM."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidTile(f"z must be between 0 and {MAX_ZOOM}", f"z harus antara 0 dan {MAX_ZOOM}")
    last = 2**z - 1
    if not (0 <= x <= last and 0 <= y <= last):
        raise InvalidTile(
            f"x and y must be between 0 and {last} at zoom {z}",
            f"x dan y harus antara 0 dan {last} pada zoom {z}",
        )


def render_tile(raster: RasterFile, z: int, x: int, y: int, style: str | None = None) -> bytes:
    """Return a 256 x 256 PNG of the raster; transparent where it has no data or outside its bounds."""
    check_tile(z, x, y)
    chosen = _checked_style(raster.kind, style)
    return _cached_tile(_version(raster.path), raster.kind, chosen, z, x, y)


def legend(raster: RasterFile) -> Legend:
    """Return the legend of the raster's colour map (a grey ramp over its range for unknown kinds)."""
    return _legend(_version(raster.path), raster.kind, raster.unit)


def zoom_range(raster: RasterFile) -> tuple[int, int]:
    """Return the zooms a client should ask for: from the lowest kendali serves to the file's full resolution.

    The lowest is 0 when even the whole coarsest overview is a bounded read, else the overviews' own minimum.
    """
    return _zoom_range(_version(raster.path))


def point_value(raster: RasterFile, lon: float, lat: float) -> float | None:
    """Return the raster's value at a lon/lat (EPSG:4326), or None outside it or at nodata."""
    return value_at(Path(_version(raster.path).path), lon, lat)


def empty_tile() -> bytes:
    """Return a fully transparent 256 x 256 PNG."""
    return _empty_png()


@lru_cache(maxsize=1)
def _empty_png() -> bytes:
    return render(np.zeros((1, TILE_PX, TILE_PX), np.uint8), np.zeros((TILE_PX, TILE_PX), np.uint8))


def _checked_style(kind: str, style: str | None) -> str:
    offered = styles_for(kind)
    if style is None:
        return offered[0]
    if style not in offered:
        listed = ", ".join(offered)
        raise InvalidTile(f"style must be one of: {listed}", f"style harus salah satu dari: {listed}")
    return style


def _version(path: Path) -> _Version:
    """Return the file's version; refuse anything but a local GeoTIFF (no remote or VRT sources)."""
    # A local file must exist before GDAL sees the name, so no remote (/vsicurl, s3) or VRT source opens.
    if str(path).startswith("/vsi") or path.suffix.lower() not in COG_SUFFIXES:
        raise SourceUnreadable(f"not a local GeoTIFF: {path.name}", f"bukan GeoTIFF lokal: {path.name}")
    try:
        stat = path.stat()
    except OSError:
        raise SourceUnreadable(
            f"raster file is missing: {path.name}", f"berkas raster tidak ada: {path.name}"
        ) from None
    return _Version(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@contextlib.contextmanager
def _open(version: _Version) -> Iterator[Reader]:
    """Open the file with the GeoTIFF driver only and hand it to rio-tiler."""
    try:
        with rasterio.open(version.path, driver="GTiff") as dataset, Reader(None, dataset=dataset) as reader:
            yield reader
    except RasterioIOError:
        raise SourceUnreadable("the raster file cannot be read", "berkas raster tidak dapat dibaca") from None


@lru_cache(maxsize=CACHED_TILES)
def _cached_tile(version: _Version, kind: str, style: str, z: int, x: int, y: int) -> bytes:
    with _open(version) as reader:
        if not reader.tile_exists(x, y, z):
            return _empty_png()
        _check_read_size(reader, z, x, y)
        try:
            if style == "hillshade":
                return _hillshade_png(reader, z, x, y)
            colors = _legend(version, kind, "")
            image = _read(reader, z, x, y, classes=colors.type == "classes")
        except TileOutsideBounds:
            return _empty_png()
    if np.ma.getmaskarray(image.array).all():
        return _empty_png()
    return _color_png(image, colors)


def _legend(version: _Version, kind: str, unit: str) -> Legend:
    known = LEGENDS.get(kind)
    if known is not None:
        return known
    low, high = _value_range(version)
    return grey_legend(low, high, unit)


def _read(reader: Reader, z: int, x: int, y: int, *, classes: bool, buffer: float = 0) -> ImageData:
    """Read band 1 for a tile: nearest for classes (a class never blends), bilinear for measures."""
    method = "nearest" if classes else "bilinear"
    return reader.tile(
        x, y, z, tilesize=TILE_PX, indexes=1, buffer=buffer, resampling_method=method, reproject_method=method
    )


def _color_png(image: ImageData, colors: Legend) -> bytes:
    if colors.type == "classes":
        return image.render(img_format="PNG", colormap=colors.class_colors())
    image.rescale(in_range=(colors.value_range,))
    return image.render(img_format="PNG", colormap=colors.ramp_lut())


def _hillshade_png(reader: Reader, z: int, x: int, y: int) -> bytes:
    """Shade a tile read with a one-pixel border, so that neighbouring tiles meet without a seam."""
    image = _read(reader, z, x, y, classes=False, buffer=1)
    valid = ~np.ma.getmaskarray(image.array[0])[1:-1, 1:-1]
    if not valid.any():
        return _empty_png()
    # Nodata is the sea in a coastal DEM: treat it as sea level so that the coast slopes into it.
    elevation = np.ma.filled(image.array[0].astype(np.float64), 0.0)
    west, south, east, north = reader.tms.xy_bounds(Tile(x=x, y=y, z=z))
    cell_m = (east - west) / TILE_PX
    lonlat = reader.tms.bounds(Tile(x=x, y=y, z=z))
    shade = hillshade(elevation, cell_m, cell_m, z_factor=mercator_z_factor((lonlat.bottom + lonlat.top) / 2))
    # Flat ground renders white and only shadows darken, so the tile can lie over any land colour.
    flat = 255 * math.sin(math.radians(DEFAULT_ALTITUDE_DEG))
    grey = np.clip(shade[1:-1, 1:-1] * (255 / flat), 0, 255).astype(np.uint8)
    return render(grey[None], np.where(valid, 255, 0).astype(np.uint8))


def _check_read_size(reader: Reader, z: int, x: int, y: int) -> None:
    """Refuse a tile whose source window, at the best overview GDAL can use, is too large to read."""
    dataset: DatasetReader = reader.dataset
    bounds = transform_bounds(reader.tms.rasterio_crs, dataset.crs, *reader.tms.xy_bounds(Tile(x, y, z)))
    window = dataset.window(*bounds)
    width, height = min(window.width, dataset.width), min(window.height, dataset.height)
    wanted = max(width, height) / TILE_PX
    factor = max(f for f in (1, *dataset.overviews(1)) if f <= max(wanted, 1))
    if (width / factor) * (height / factor) > MAX_READ_PIXELS:
        minimum = int(reader.minzoom)
        raise InvalidTile(
            f"zoom {z} is too low for this raster; use {minimum} or more",
            f"zoom {z} terlalu kecil untuk raster ini; gunakan {minimum} atau lebih",
        )


@lru_cache(maxsize=64)
def _zoom_range(version: _Version) -> tuple[int, int]:
    with _open(version) as reader:
        dataset: DatasetReader = reader.dataset
        factor = max((1, *dataset.overviews(1)))
        whole_is_small = (dataset.width / factor) * (dataset.height / factor) <= MAX_READ_PIXELS
        return 0 if whole_is_small else int(reader.minzoom), int(reader.maxzoom)


@lru_cache(maxsize=64)
def _value_range(version: _Version) -> tuple[float, float]:
    """Return band 1's min and max read from the coarsest overview (a bounded read)."""
    with _open(version) as reader:
        dataset: DatasetReader = reader.dataset
        factor = max((1, *dataset.overviews(1)))
        shape = (max(1, dataset.height // factor), max(1, dataset.width // factor))
        band = dataset.read(1, out_shape=shape, masked=True)
    if band.count() == 0:
        return 0.0, 1.0
    low, high = float(band.min()), float(band.max())
    return (low, high) if math.isfinite(low) and math.isfinite(high) else (0.0, 1.0)
