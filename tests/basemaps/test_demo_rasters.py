"""Synthetic DEM and flood-hazard COGs built from the real Ambon coastline, and point look-ups on them."""

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import rasterio
import shapely
from shapely.geometry import LineString, Point, Polygon

from basemaps.demo_rasters import RasterInfo, write_dem, write_flood_hazard
from basemaps.raster_values import value_at, values_at
from layers.demo.geography import load_island

M_PER_DEG = 111_000.0  # good to ~0.5% for both axes at 3.7° S, plenty for these bands
# Two Leitimur streams that flow north-west into Ambon Bay; each ends just offshore.
RIVERS = (
    LineString([(128.215, -3.725), (128.195, -3.700), (128.1835, -3.6845)]),
    LineString([(128.245, -3.690), (128.232, -3.672), (128.222, -3.653)]),
)
LAND_POINT = (128.22, -3.73)
BAY_POINT = (128.15, -3.68)
MAX_COG_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def land() -> Polygon:
    return load_island()


@pytest.fixture(scope="module")
def dem(land: Polygon, tmp_path_factory: pytest.TempPathFactory) -> RasterInfo:
    return write_dem(land, RIVERS, tmp_path_factory.mktemp("dem") / "dem.tif")


@pytest.fixture(scope="module")
def flood(dem: RasterInfo, tmp_path_factory: pytest.TempPathFactory) -> RasterInfo:
    return write_flood_hazard(dem.path, RIVERS, tmp_path_factory.mktemp("flood") / "flood.tif")


def read_band(path: Path) -> npt.NDArray[np.float64]:
    with rasterio.open(path) as src:
        band: npt.NDArray[np.float64] = src.read(1).astype(np.float64)
    return band


def point_upstream_of_coast(river: LineString, land: Polygon, inland_m: float) -> Point:
    crossing = river.intersection(land.boundary)
    point: Point = river.interpolate(river.project(crossing) - inland_m / M_PER_DEG)
    return point


def offset_across(river: LineString, along_fraction: float, offset_m: float) -> tuple[Point, Point]:
    """Return a point on the river and one offset_m away from it, square to the river's overall course."""
    on_river = river.interpolate(along_fraction, normalized=True)
    (x0, y0), (x1, y1) = river.coords[0], river.coords[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    normal = ((y1 - y0) / length, -(x1 - x0) / length)
    step = offset_m / M_PER_DEG
    return on_river, Point(on_river.x + normal[0] * step, on_river.y + normal[1] * step)


@pytest.mark.parametrize("raster", ["dem", "flood"])
def test_raster_is_epsg_4326(raster: str, request: pytest.FixtureRequest) -> None:
    info: RasterInfo = request.getfixturevalue(raster)
    with rasterio.open(info.path) as src:
        assert src.crs.to_epsg() == 4326


@pytest.mark.parametrize("raster", ["dem", "flood"])
def test_raster_is_tiled_cog_with_overviews(raster: str, request: pytest.FixtureRequest) -> None:
    info: RasterInfo = request.getfixturevalue(raster)
    with rasterio.open(info.path) as src:
        assert src.profile["tiled"]
        assert src.overviews(1)
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.compression is not None and src.compression.name == "deflate"


@pytest.mark.parametrize("raster", ["dem", "flood"])
def test_raster_is_under_2_mb(raster: str, request: pytest.FixtureRequest) -> None:
    info: RasterInfo = request.getfixturevalue(raster)
    assert info.path.stat().st_size < MAX_COG_BYTES


@pytest.mark.parametrize("raster", ["dem", "flood"])
def test_raster_info_describes_written_file(raster: str, request: pytest.FixtureRequest) -> None:
    info: RasterInfo = request.getfixturevalue(raster)
    with rasterio.open(info.path) as src:
        assert (src.width, src.height, src.nodata) == (info.width, info.height, info.nodata)
        assert src.bounds == pytest.approx(info.bounds)


def test_raster_covers_the_island_with_about_110_m_pixels(dem: RasterInfo, land: Polygon) -> None:
    minx, miny, maxx, maxy = dem.bounds
    assert shapely.box(minx, miny, maxx, maxy).contains(land)
    assert (maxx - minx) / dem.width == pytest.approx(0.001)
    assert (maxy - miny) / dem.height == pytest.approx(0.001)


def test_dem_is_above_sea_level_on_land(dem: RasterInfo, land: Polygon) -> None:
    assert land.contains(Point(LAND_POINT))
    elevation = value_at(dem.path, *LAND_POINT)
    assert elevation is not None and elevation > 0


def test_dem_is_nodata_at_sea(dem: RasterInfo, land: Polygon) -> None:
    assert not land.intersects(Point(BAY_POINT).buffer(0.002))
    with rasterio.open(dem.path) as src:
        (raw,) = next(src.sample([BAY_POINT], indexes=1))
    assert raw == dem.nodata == -9999


def test_dem_rises_with_distance_from_coast(dem: RasterInfo, land: Polygon) -> None:
    band = read_band(dem.path)
    rows, cols = np.nonzero(band != dem.nodata)
    lon = dem.bounds[0] + (cols + 0.5) * 0.001
    lat = dem.bounds[3] - (rows + 0.5) * 0.001
    coast_m = shapely.distance(land.boundary, shapely.points(lon, lat)) * M_PER_DEG
    elevation = band[rows, cols]
    coastal_mean = elevation[coast_m < 500].mean()
    inland_mean = elevation[(coast_m > 1_500) & (coast_m < 3_000)].mean()
    assert inland_mean > 3 * coastal_mean


def test_dem_stays_within_ambon_hill_heights(dem: RasterInfo) -> None:
    band = read_band(dem.path)
    land = band[band != dem.nodata]
    assert land.min() > 0
    assert 500 < land.max() <= 1_050


def test_river_is_lower_than_terrain_1_km_away(dem: RasterInfo, land: Polygon) -> None:
    on_river, beside = offset_across(RIVERS[0], 0.5, 1_000)
    assert land.contains(beside)
    assert RIVERS[0].distance(beside) * M_PER_DEG > 900
    river_m, beside_m = values_at(dem.path, [(on_river.x, on_river.y), (beside.x, beside.y)])
    assert river_m is not None and beside_m is not None
    assert river_m < beside_m - 50


def test_rivers_cut_valleys_into_the_terrain(dem: RasterInfo, land: Polygon, tmp_path: Path) -> None:
    without_rivers = write_dem(land, (), tmp_path / "no_rivers.tif")
    on_river = [(p.x, p.y) for p in (RIVERS[0].interpolate(f, normalized=True) for f in (0.3, 0.6))]
    carved = values_at(dem.path, on_river)
    uncarved = values_at(without_rivers.path, on_river)
    assert all(c is not None and u is not None and c < u - 30 for c, u in zip(carved, uncarved, strict=True))


def test_river_bed_is_a_few_metres_above_sea_near_mouth(dem: RasterInfo, land: Polygon) -> None:
    mouth = point_upstream_of_coast(RIVERS[0], land, 200)
    elevation = value_at(dem.path, mouth.x, mouth.y)
    assert elevation is not None and 0 < elevation < 15


def test_river_bed_rises_upstream(dem: RasterInfo) -> None:
    mouth_to_source = [RIVERS[0].interpolate(f, normalized=True) for f in (0.9, 0.5, 0.1)]
    near_mouth, middle, near_source = values_at(dem.path, [(p.x, p.y) for p in mouth_to_source])
    assert near_mouth is not None and middle is not None and near_source is not None
    assert near_mouth < middle < near_source


def test_flood_hazard_is_high_on_river_near_mouth(flood: RasterInfo, land: Polygon) -> None:
    for river in RIVERS:
        mouth = point_upstream_of_coast(river, land, 200)
        assert value_at(flood.path, mouth.x, mouth.y) == 3


def test_flood_hazard_is_lower_upstream_in_the_hills(flood: RasterInfo, land: Polygon) -> None:
    mouth = point_upstream_of_coast(RIVERS[0], land, 200)
    source_lon, source_lat = RIVERS[0].coords[0]
    near_mouth_class, source_class = values_at(flood.path, [(mouth.x, mouth.y), (source_lon, source_lat)])
    assert near_mouth_class is not None and source_class is not None
    assert source_class < near_mouth_class


def test_flood_hazard_is_none_on_the_highest_ground(dem: RasterInfo, flood: RasterInfo) -> None:
    elevation = read_band(dem.path)
    hazard = read_band(flood.path)
    assert np.all(hazard[elevation > 200] == 0)


def test_flood_hazard_is_nodata_exactly_where_dem_is(dem: RasterInfo, flood: RasterInfo) -> None:
    sea = read_band(dem.path) == dem.nodata
    hazard = read_band(flood.path)
    assert np.array_equal(hazard == flood.nodata, sea)
    assert set(np.unique(hazard[~sea])) <= {0, 1, 2, 3}


@pytest.mark.parametrize("lon, lat", [(127.5, -3.7), (128.18, -3.0), (128.366, -3.6)])
def test_value_at_returns_none_outside_bounds(dem: RasterInfo, lon: float, lat: float) -> None:
    assert value_at(dem.path, lon, lat) is None


@pytest.mark.parametrize("raster", ["dem", "flood"])
def test_value_at_returns_none_at_sea(raster: str, request: pytest.FixtureRequest, land: Polygon) -> None:
    info: RasterInfo = request.getfixturevalue(raster)
    assert not land.contains(Point(BAY_POINT))
    assert value_at(info.path, *BAY_POINT) is None


def test_values_at_agrees_with_value_at(dem: RasterInfo) -> None:
    points = [LAND_POINT, BAY_POINT, (127.5, -3.7), RIVERS[1].coords[1]]
    assert values_at(dem.path, points) == [value_at(dem.path, lon, lat) for lon, lat in points]


@pytest.mark.parametrize("lon, lat", [(math.nan, -3.7), (128.2, math.inf), (-math.inf, -3.7)])
def test_value_at_rejects_non_finite_coordinates(dem: RasterInfo, lon: float, lat: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        value_at(dem.path, lon, lat)


def test_same_seed_gives_identical_dem(land: Polygon, tmp_path: Path) -> None:
    first = write_dem(land, RIVERS, tmp_path / "first.tif", seed=7)
    second = write_dem(land, RIVERS, tmp_path / "second.tif", seed=7)
    assert np.array_equal(read_band(first.path), read_band(second.path))
    assert first.path.read_bytes() == second.path.read_bytes()


def test_other_seed_gives_other_hills(land: Polygon, tmp_path: Path) -> None:
    first = write_dem(land, RIVERS, tmp_path / "first.tif", seed=7)
    second = write_dem(land, RIVERS, tmp_path / "second.tif", seed=8)
    assert not np.array_equal(read_band(first.path), read_band(second.path))
