"""Flood-risk zones from a DEM, the rivers and the river stages: a height-above-nearest-river model.

For every land pixel of the DEM (pixel centres; distances in metres in EPSG:32752):
1. the pixel's river is the nearest river, if it lies within `distance_m`; farther pixels stay dry;
2. the bed elevation is the DEM at the point of that river nearest to the pixel;
3. the stage is the level of the station on that river nearest along the river to that point (chainage);
   a river without a station with a known level does not flood, even where other rivers do;
4. the water surface is bed + stage + `margin_m`; depth = surface - DEM(pixel); flooded where depth > 0.
Flooded pixels are classed by depth (1: < 0.5 m, 2: 0.5–1.5 m, 3: > 1.5 m), paired with the class of
the flood-hazard raster at the pixel (0 none … 3 high), polygonised with rasterio.features.shapes and
dissolved per (station, depth class, hazard class). Stages are passed in already quantised to bands
by the caller, so the same bands give the same zones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
import shapely
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.features import shapes
from rasterio.warp import reproject
from rasterio.windows import Window
from shapely.geometry import MultiPolygon, Point, shape
from shapely.geometry.base import BaseGeometry

from geo.crs import AMBON_UTM_SRID, STORAGE_SRID

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SHALLOW_M = 0.5
DEEP_M = 1.5
HAZARD_NODATA = 255
_DEGREES_PER_M = 1 / 110_000  # generous near the equator: windows are only ever made too large
_KEY_STRIDE = 100  # combined class = station * 100 + depth * 10 + hazard


@dataclass(frozen=True, slots=True)
class River:
    """A river course (EPSG:4326)."""

    code: str
    geom: BaseGeometry


@dataclass(frozen=True, slots=True)
class Station:
    """A water-level station on a river, with the stage (cm, already banded) the zones are drawn for."""

    code: str
    name: str
    river_code: str
    point: Point
    stage_cm: float | None


@dataclass(frozen=True, slots=True)
class Zone:
    """The land flooded from one station at one depth class and hazard class (EPSG:4326)."""

    station: Station
    depth_class: int
    hazard_class: int
    max_depth_m: float
    area_ha: float
    geom: MultiPolygon


@dataclass(frozen=True, slots=True)
class _Grid:
    """A window of the DEM: elevations (NaN off land) and how pixels map to lon/lat."""

    dem_m: FloatArray
    transform: Any  # affine.Affine
    window: Window


@dataclass(frozen=True, slots=True)
class _Pixels:
    """Some land pixels of the window: their rows, columns and centres (UTM points)."""

    rows: IntArray
    cols: IntArray
    points_m: npt.NDArray[np.object_]


def depth_class(depth_m: FloatArray) -> IntArray:
    """Return the depth class of each depth: 1 below 0.5 m, 2 up to 1.5 m, 3 deeper."""
    classes: IntArray = np.where(depth_m < SHALLOW_M, 1, np.where(depth_m <= DEEP_M, 2, 3)).astype(np.int64)
    return classes


def compute_zones(
    dem_path: Path,
    hazard_path: Path,
    rivers: Sequence[River],
    stations: Sequence[Station],
    *,
    distance_m: float,
    margin_m: float,
) -> list[Zone]:
    """Return the flood zones for these stages, ordered by station code, depth class, hazard class."""
    flowing = [s for s in stations if s.stage_cm is not None]
    if not rivers or not flowing:
        return []
    to_utm = Transformer.from_crs(STORAGE_SRID, AMBON_UTM_SRID, always_xy=True)
    grid = _read_dem(dem_path, rivers, distance_m)
    depth_m, station_of = _flood_depths(grid, rivers, flowing, to_utm, distance_m, margin_m)
    hazard = _read_hazard(hazard_path, grid)
    return _polygonise(grid, depth_m, station_of, hazard, flowing, to_utm)


def _flood_depths(
    grid: _Grid,
    rivers: Sequence[River],
    stations: Sequence[Station],
    to_utm: Transformer,
    distance_m: float,
    margin_m: float,
) -> tuple[FloatArray, IntArray]:
    """Return the water depth of every pixel (NaN where dry) and the index of the station it floods from."""
    rows, cols = np.nonzero(np.isfinite(grid.dem_m))
    lon, lat = _pixel_centres(grid.transform, rows, cols)
    points_m = shapely.points(np.column_stack(to_utm.transform(lon, lat)))
    rivers_m = [_projected(river.geom, to_utm) for river in rivers]
    (pixel_index, river_index), _ = shapely.STRtree(rivers_m).query_nearest(
        points_m, max_distance=distance_m, return_distance=True, all_matches=False
    )
    depth_m = np.full(grid.dem_m.shape, np.nan)
    station_of = np.full(grid.dem_m.shape, -1, dtype=np.int64)
    for r, river in enumerate(rivers):
        mine = pixel_index[river_index == r]
        on_river = [(k, s) for k, s in enumerate(stations) if s.river_code == river.code]
        if not len(mine) or not on_river:
            continue
        pixels = _Pixels(rows[mine], cols[mine], points_m[mine])
        wet, depth, station = _flood_from_river(grid, pixels, rivers_m[r], on_river, to_utm, margin_m)
        depth_m[pixels.rows[wet], pixels.cols[wet]] = depth
        station_of[pixels.rows[wet], pixels.cols[wet]] = station
    return depth_m, station_of


def _read_dem(dem_path: Path, rivers: Sequence[River], distance_m: float) -> _Grid:
    """Read the DEM around the rivers (plus `distance_m`); nodata becomes NaN."""
    west, south, east, north = shapely.total_bounds([r.geom for r in rivers])
    pad = distance_m * _DEGREES_PER_M * 1.5
    with rasterio.open(dem_path) as src:
        top, left = src.index(west - pad, north + pad, op=math.floor)
        bottom, right = src.index(east + pad, south - pad, op=math.floor)
        window = Window.from_slices(
            (max(top, 0), min(bottom + 1, src.height)), (max(left, 0), min(right + 1, src.width))
        )
        band = src.read(1, window=window).astype(np.float64)
        if src.nodata is not None:
            band[band == src.nodata] = np.nan
        return _Grid(band, src.window_transform(window), window)


def _pixel_centres(transform: Any, rows: IntArray, cols: IntArray) -> tuple[FloatArray, FloatArray]:
    """Return lon, lat of the centres of the given pixels (north-up grid)."""
    lon: FloatArray = transform.c + (cols + 0.5) * transform.a
    lat: FloatArray = transform.f + (rows + 0.5) * transform.e
    return lon, lat


def _projected(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    """Return a geometry transformed by `transformer` (x/y order)."""
    out: BaseGeometry = shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(*xy.T)))
    return out


def _flood_from_river(
    grid: _Grid,
    pixels: _Pixels,
    river_m: BaseGeometry,
    on_river: list[tuple[int, Station]],
    to_utm: Transformer,
    margin_m: float,
) -> tuple[BoolArray, FloatArray, IntArray]:
    """Return which of the pixels flood from this river, their depths and their stations' indexes."""
    chainage_m = shapely.line_locate_point(river_m, pixels.points_m)
    bed_m = _bed_elevation(grid, shapely.line_interpolate_point(river_m, chainage_m), to_utm)
    station_chainage_m = np.array(
        [shapely.line_locate_point(river_m, _projected(s.point, to_utm)) for _, s in on_river]
    )
    nearest = np.abs(chainage_m[:, None] - station_chainage_m[None, :]).argmin(axis=1)
    stage_m = np.array([s.stage_cm or 0.0 for _, s in on_river])[nearest] / 100.0
    depth = bed_m + stage_m + margin_m - grid.dem_m[pixels.rows, pixels.cols]
    wet: BoolArray = depth > 0  # NaN beds (off the DEM) compare False and stay dry
    station: IntArray = np.array([k for k, _ in on_river])[nearest[wet]]
    return wet, depth[wet], station


def _bed_elevation(grid: _Grid, beds_m: npt.NDArray[np.object_], to_utm: Transformer) -> FloatArray:
    """Return the DEM under each bed point (UTM), NaN where it falls off the window or the land."""
    xy = shapely.get_coordinates(beds_m)
    lon, lat = to_utm.transform(xy[:, 0], xy[:, 1], direction="INVERSE")
    t = grid.transform
    cols = np.floor((lon - t.c) / t.a).astype(np.int64)
    rows = np.floor((lat - t.f) / t.e).astype(np.int64)
    height, width = grid.dem_m.shape
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    bed: FloatArray = np.full(len(xy), np.nan)
    bed[inside] = grid.dem_m[rows[inside], cols[inside]]
    return bed


def _read_hazard(hazard_path: Path, grid: _Grid) -> IntArray:
    """Return the hazard class on the DEM window's pixels (nearest pixel; nodata becomes 0)."""
    out = np.full(grid.dem_m.shape, HAZARD_NODATA, dtype=np.uint8)
    with rasterio.open(hazard_path) as src:
        reproject(
            rasterio.band(src, 1),
            out,
            dst_transform=grid.transform,
            dst_crs=src.crs,
            dst_nodata=HAZARD_NODATA,
            resampling=Resampling.nearest,
        )
    hazard: IntArray = np.where(out > 3, 0, out).astype(np.int64)
    return hazard


def _polygonise(
    grid: _Grid,
    depth_m: FloatArray,
    station_of: IntArray,
    hazard: IntArray,
    stations: Sequence[Station],
    to_utm: Transformer,
) -> list[Zone]:
    """Return one dissolved zone per (station, depth class, hazard class) of the flooded pixels."""
    wet = station_of >= 0
    classes = np.zeros(depth_m.shape, dtype=np.int32)
    classes[wet] = station_of[wet] * _KEY_STRIDE + depth_class(depth_m[wet]) * 10 + hazard[wet]
    parts: dict[int, list[BaseGeometry]] = {}
    for geojson, value in shapes(classes, mask=wet, connectivity=4, transform=grid.transform):
        parts.setdefault(int(value), []).append(shape(geojson))
    zones = [
        _zone(key, polygons, depth_m[classes == key], stations, to_utm) for key, polygons in parts.items()
    ]
    return sorted(zones, key=lambda z: (z.station.code, z.depth_class, z.hazard_class))


def _zone(
    key: int,
    polygons: list[BaseGeometry],
    depths_m: FloatArray,
    stations: Sequence[Station],
    to_utm: Transformer,
) -> Zone:
    """Return the zone of one combined class from its polygons and the depths of its pixels."""
    merged = shapely.union_all(polygons)
    geom = merged if isinstance(merged, MultiPolygon) else MultiPolygon([merged])
    return Zone(
        station=stations[key // _KEY_STRIDE],
        depth_class=key % _KEY_STRIDE // 10,
        hazard_class=key % 10,
        max_depth_m=round(float(depths_m.max()), 3),
        area_ha=round(_projected(geom, to_utm).area / 10_000, 4),
        geom=geom,
    )


def band_floor_cm(level_cm: float, band_cm: float) -> float:
    """Return the floor of the band of `band_cm` that holds `level_cm`."""
    return math.floor(level_cm / band_cm) * band_cm
