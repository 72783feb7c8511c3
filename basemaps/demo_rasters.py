"""Deterministic synthetic rasters for the demo city (DEM and flood hazard), written as COGs."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.features import rasterize
from rasterio.io import MemoryFile
from rasterio.shutil import copy as copy_dataset
from rasterio.transform import array_bounds
from shapely.geometry import LineString, MultiPolygon, Polygon

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
G = TypeVar("G")

CRS_4326 = CRS.from_epsg(4326)
PIXEL_DEG = 0.001
MARGIN_DEG = 0.01
COG_BLOCK_PX = 256  # below GDAL's default 512 so that a ~450 px wide island still gets an overview level

DEM_NODATA = -9999.0
HAZARD_NODATA = 255
LAND_MIN_M = 1.0
MAX_ELEVATION_M = 1050.0
HILL_HEIGHT_M = 900.0
HILL_RAMP_M = 5000.0
HILL_WAVES = 6
VALLEY_HALF_WIDTH_M = 300.0
VALLEY_FLOOR_HALF_WIDTH_M = 80.0  # ~ half a pixel diagonal, so the pixel a river crosses sits on its bed
VALLEY_SHAPE = 1.5
MOUTH_BED_M = 2.0
RIVER_GRADIENT = 0.02

# (class, low-land ceiling m, river reach m, ceiling within that reach m); later rows win.
HAZARD_RULES: tuple[tuple[int, float, float, float], ...] = (
    (1, 30.0, 500.0, 100.0),
    (2, 15.0, 300.0, 50.0),
    (3, 5.0, 150.0, 20.0),
)

_WGS84_A_M = 6_378_137.0
_WGS84_E2 = 0.00669437999014


@dataclass(frozen=True, slots=True)
class RasterInfo:
    """Where a written raster is and what its band holds."""

    path: Path
    kind: str
    unit: str
    nodata: float
    bounds: tuple[float, float, float, float]
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Grid:
    """A north-up EPSG:4326 pixel grid."""

    transform: Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        """Return (rows, cols)."""
        return self.height, self.width


@dataclass(frozen=True, slots=True)
class _LocalFrame:
    """Equirectangular metres around the grid centre; the distortion is negligible across one island."""

    lon0: float
    lat0: float
    m_per_deg_lon: float
    m_per_deg_lat: float

    @classmethod
    def centred_on(cls, grid: _Grid) -> "_LocalFrame":
        """Return the frame whose origin is the centre of the grid."""
        west, south, east, north = array_bounds(grid.height, grid.width, grid.transform)
        lat0 = (south + north) / 2
        m_lon, m_lat = metres_per_degree(lat0)
        return cls((west + east) / 2, lat0, m_lon, m_lat)

    def project(self, lonlat: FloatArray) -> FloatArray:
        """Return (N, 2) lon/lat degrees as (N, 2) east/north metres."""
        origin = np.array([self.lon0, self.lat0])
        metres: FloatArray = (lonlat - origin) * np.array([self.m_per_deg_lon, self.m_per_deg_lat])
        return metres

    def geometry(self, geom: G) -> G:
        """Return a shapely geometry in this frame's metres."""
        project: Callable[[FloatArray], FloatArray] = self.project
        result: G = shapely.transform(geom, project)
        return result


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Return the WGS84 length in metres of one degree of longitude and of latitude at a latitude."""
    phi = math.radians(lat)
    m_lon = math.radians(1) * _WGS84_A_M * math.cos(phi) / math.sqrt(1 - _WGS84_E2 * math.sin(phi) ** 2)
    m_lat = 111_132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    return m_lon, m_lat


def write_dem(
    land: Polygon | MultiPolygon, rivers: Sequence[LineString], path: Path, *, seed: int = 42
) -> RasterInfo:
    """Write a synthetic DEM (metres, float32): sea is nodata, land rises from the coast, rivers cut in."""
    grid = _grid_around(land.bounds)
    frame = _LocalFrame.centred_on(grid)
    mask = _land_mask(land, grid)
    points = shapely.points(frame.project(_pixel_lonlat(grid, mask)))
    land_m = frame.geometry(land)
    xy_m = shapely.get_coordinates(points)
    elevation_m = _terrain_m(shapely.distance(land_m.boundary, points), xy_m, seed)
    rivers_m = [_oriented_from_mouth(frame.geometry(river), land_m.boundary) for river in rivers]
    elevation_m = _carve_valleys(elevation_m, points, rivers_m)
    dem = np.full(grid.shape, DEM_NODATA, dtype=np.float32)
    dem[mask] = np.clip(elevation_m, LAND_MIN_M, MAX_ELEVATION_M)
    _write_cog(path, dem, grid, DEM_NODATA, resampling="AVERAGE", tags={"kind": "dem", "unit": "m"})
    return _info(path, "dem", "m", DEM_NODATA, grid)


def write_flood_hazard(dem_path: Path, rivers: Sequence[LineString], path: Path) -> RasterInfo:
    """Write a flood-hazard class raster (uint8: 0 none, 1 low, 2 medium, 3 high; 255 nodata over the sea)."""
    grid, dem, nodata = _read_dem(dem_path)
    land = np.isfinite(dem) & (dem != nodata)
    frame = _LocalFrame.centred_on(grid)
    points = shapely.points(frame.project(_pixel_lonlat(grid, land)))
    distances = _river_distances_m(points, [frame.geometry(river) for river in rivers])
    river_m = distances.min(axis=0) if len(rivers) else np.full(len(points), np.inf)
    hazard = np.full(grid.shape, HAZARD_NODATA, dtype=np.uint8)
    hazard[land] = _hazard_classes(dem[land].astype(np.float64), river_m)
    tags = {"kind": "flood_hazard", "unit": "class", "classes": "0 none, 1 low, 2 medium, 3 high"}
    _write_cog(path, hazard, grid, HAZARD_NODATA, resampling="MODE", tags=tags)
    return _info(path, "flood_hazard", "class", float(HAZARD_NODATA), grid)


def _grid_around(bounds: tuple[float, float, float, float]) -> _Grid:
    """Return a PIXEL_DEG grid snapped outwards to whole pixels around bounds plus MARGIN_DEG."""
    minx, miny, maxx, maxy = bounds
    first_col = math.floor((minx - MARGIN_DEG) / PIXEL_DEG)
    last_col = math.ceil((maxx + MARGIN_DEG) / PIXEL_DEG)
    top_row = math.ceil((maxy + MARGIN_DEG) / PIXEL_DEG)
    bottom_row = math.floor((miny - MARGIN_DEG) / PIXEL_DEG)
    west, north = round(first_col * PIXEL_DEG, 9), round(top_row * PIXEL_DEG, 9)
    transform = Affine(PIXEL_DEG, 0.0, west, 0.0, -PIXEL_DEG, north)
    return _Grid(transform, last_col - first_col, top_row - bottom_row)


def _land_mask(land: Polygon | MultiPolygon, grid: _Grid) -> BoolArray:
    """Return True where a pixel centre lies on land."""
    burned = rasterize([land], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8")
    mask: BoolArray = burned.astype(bool)
    return mask


def _pixel_lonlat(grid: _Grid, mask: BoolArray) -> FloatArray:
    """Return (N, 2) lon/lat of the masked pixel centres, in row-major order."""
    rows, cols = np.nonzero(mask)
    lon = grid.transform.c + (cols + 0.5) * grid.transform.a
    lat = grid.transform.f + (rows + 0.5) * grid.transform.e
    return np.column_stack([lon, lat])


def _terrain_m(coast_m: FloatArray, xy_m: FloatArray, seed: int) -> FloatArray:
    """Return elevation rising from a flat coastal plain to seeded hills inland."""
    ramp = np.clip(coast_m / HILL_RAMP_M, 0.0, 1.0)
    base_m = HILL_HEIGHT_M * ramp * ramp * (3 - 2 * ramp)
    relief = 0.6 + 0.55 * _hill_noise(xy_m, seed)
    terrain: FloatArray = base_m * relief
    return terrain


def _hill_noise(xy_m: FloatArray, seed: int) -> FloatArray:
    """Return smooth seeded relief in [0, 1]: plane waves of 2–9 km, the longer ones stronger."""
    rng = np.random.default_rng(seed)
    wavelengths_m = np.sort(rng.uniform(2_000.0, 9_000.0, HILL_WAVES))[::-1]
    angles = rng.uniform(0.0, math.pi, HILL_WAVES)
    phases = rng.uniform(0.0, 2 * math.pi, HILL_WAVES)
    amplitudes = wavelengths_m / wavelengths_m.max()
    total = np.zeros(len(xy_m))
    for wavelength, angle, phase, amplitude in zip(wavelengths_m, angles, phases, amplitudes, strict=True):
        along_m = xy_m[:, 0] * math.cos(angle) + xy_m[:, 1] * math.sin(angle)
        total += amplitude * np.sin(2 * math.pi * along_m / wavelength + phase)
    noise: FloatArray = 0.5 + 0.5 * total / amplitudes.sum()
    return noise


def _oriented_from_mouth(river_m: LineString, coast_m: Any) -> LineString:
    """Return the river running from its mouth, taken to be the end nearer the coast."""
    start, end = shapely.get_point(river_m, 0), shapely.get_point(river_m, -1)
    if shapely.distance(coast_m, end) < shapely.distance(coast_m, start):
        reversed_river: LineString = shapely.reverse(river_m)
        return reversed_river
    return river_m


def _river_distances_m(points: npt.NDArray[np.object_], rivers_m: Sequence[LineString]) -> FloatArray:
    """Return a (rivers, points) array of distances in metres."""
    distances: FloatArray = np.stack([shapely.distance(river, points) for river in rivers_m])
    return distances.reshape(len(rivers_m), len(points))


def _carve_valleys(
    elevation_m: FloatArray, points: npt.NDArray[np.object_], rivers_m: Sequence[LineString]
) -> FloatArray:
    """Lower the terrain near each river towards a bed that starts just above sea level and rises upstream."""
    if not rivers_m:
        return elevation_m
    distances = _river_distances_m(points, rivers_m)
    nearest = distances.argmin(axis=0)
    distance_m = distances.min(axis=0)
    carved = elevation_m.copy()
    for index, river in enumerate(rivers_m):
        near = (nearest == index) & (distance_m < VALLEY_HALF_WIDTH_M)
        bed_m = MOUTH_BED_M + RIVER_GRADIENT * shapely.line_locate_point(river, points[near])
        flank_m = np.clip(distance_m[near] - VALLEY_FLOOR_HALF_WIDTH_M, 0.0, None)
        weight = (flank_m / (VALLEY_HALF_WIDTH_M - VALLEY_FLOOR_HALF_WIDTH_M)) ** VALLEY_SHAPE
        carved[near] = np.minimum(carved[near], bed_m + (carved[near] - bed_m) * weight)
    return carved


def _hazard_classes(elevation_m: FloatArray, river_m: FloatArray) -> npt.NDArray[np.uint8]:
    """Return hazard classes: low land, and land a little higher but close to a river, floods first."""
    hazard = np.zeros(len(elevation_m), dtype=np.uint8)
    for hazard_class, low_land_m, reach_m, riverside_m in HAZARD_RULES:
        hit = (elevation_m < low_land_m) | ((river_m < reach_m) & (elevation_m < riverside_m))
        hazard[hit] = hazard_class
    return hazard


def _read_dem(dem_path: Path) -> tuple[_Grid, FloatArray, float]:
    """Return the DEM's grid, band 1 and nodata value."""
    with rasterio.open(dem_path) as src:
        if src.crs != CRS_4326:
            raise ValueError(f"{dem_path} is not in EPSG:4326")
        grid = _Grid(src.transform, src.width, src.height)
        band: FloatArray = src.read(1).astype(np.float64)
        nodata = DEM_NODATA if src.nodata is None else float(src.nodata)
    return grid, band, nodata


def _write_cog(
    path: Path, band: npt.NDArray[Any], grid: _Grid, nodata: float, *, resampling: str, tags: dict[str, str]
) -> None:
    """Write one band as a deflate-compressed, tiled Cloud-Optimized GeoTIFF with overviews."""
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": band.dtype.name,
        "crs": CRS_4326,
        "transform": grid.transform,
        "nodata": nodata,
    }
    with MemoryFile() as staging_file:
        with staging_file.open(**profile) as staging:
            staging.write(band, 1)
            staging.update_tags(**tags)
        with staging_file.open() as staging:
            copy_dataset(
                staging,
                str(path),
                driver="COG",
                compress="DEFLATE",
                predictor="YES",
                blocksize=COG_BLOCK_PX,
                overview_resampling=resampling,
            )


def _info(path: Path, kind: str, unit: str, nodata: float, grid: _Grid) -> RasterInfo:
    """Return the RasterInfo of a raster written on grid."""
    # round away float noise such as 128.36599999999999 from the affine arithmetic
    west, south, east, north = (
        round(edge, 9) for edge in array_bounds(grid.height, grid.width, grid.transform)
    )
    return RasterInfo(path, kind, unit, nodata, (west, south, east, north), grid.width, grid.height)


def write_demo_rasters(
    land: Polygon | MultiPolygon, rivers: Sequence[LineString], out_dir: Path, seed: int
) -> list[RasterInfo]:
    """Write the demo DEM and flood-hazard rasters into `out_dir`; return both."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dem = write_dem(land, rivers, out_dir / "ambon-dem.tif", seed=seed)
    return [dem, write_flood_hazard(dem.path, rivers, out_dir / "ambon-flood-hazard.tif")]
