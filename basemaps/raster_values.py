"""Point look-ups of raster values at lon/lat positions."""

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.io import DatasetReader
from rasterio.warp import transform as transform_coords
from rasterio.windows import Window

CRS_4326 = CRS.from_epsg(4326)


def value_at(path: Path, lon: float, lat: float) -> float | None:
    """Return the raster's band-1 value at a lon/lat (EPSG:4326), or None outside or at nodata."""
    return values_at(path, [(lon, lat)])[0]


def values_at(path: Path, points: Sequence[tuple[float, float]]) -> list[float | None]:
    """Return the band-1 value at each lon/lat (EPSG:4326), None where outside the raster or at nodata."""
    for lon, lat in points:
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ValueError(f"non-finite coordinate: ({lon}, {lat})")
    if not points:
        return []
    with rasterio.open(path, "r") as src:
        xs, ys = _to_dataset_crs(src, points)
        return [_pixel_value(src, x, y) for x, y in zip(xs, ys, strict=True)]


def _to_dataset_crs(
    src: DatasetReader, points: Sequence[tuple[float, float]]
) -> tuple[list[float], list[float]]:
    """Return the points' x and y in the dataset's CRS."""
    lons = [lon for lon, _ in points]
    lats = [lat for _, lat in points]
    if src.crs is None or src.crs == CRS_4326:
        return lons, lats
    xs, ys = transform_coords(CRS_4326, src.crs, lons, lats)
    return list(xs), list(ys)


def _pixel_value(src: DatasetReader, x: float, y: float) -> float | None:
    """Return the band-1 value of the pixel containing x/y, or None outside, at nodata or if not finite."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    row, col = src.index(x, y)
    if not (0 <= row < src.height and 0 <= col < src.width):
        return None
    pixel = src.read(1, window=Window(col, row, 1, 1), masked=True)
    if np.ma.is_masked(pixel):
        return None
    value = float(pixel[0, 0])
    return value if math.isfinite(value) else None
