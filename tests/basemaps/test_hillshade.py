"""Hillshade with numpy: sun direction, altitude and z-factors."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from basemaps.hillshade import degrees_z_factor, hillshade, mercator_z_factor


def plane(
    east_slope: float, north_slope: float, cell: float = 10.0, size: int = 8
) -> npt.NDArray[np.float64]:
    """Return a tilted plane (rows run south): z rises east_slope per metre east and north_slope north."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    grid: npt.NDArray[np.float64] = cols * cell * east_slope - rows * cell * north_slope
    return grid


def test_flat_ground_is_lit_by_the_sine_of_the_altitude() -> None:
    shade = hillshade(np.zeros((5, 5)), 10, 10, altitude_deg=30)
    assert np.all(shade == round(255 * math.sin(math.radians(30))))


@pytest.mark.parametrize(("azimuth", "rise_away_from_sun"), [(315, (0.5, -0.5)), (90, (-0.5, 0.0))])
def test_slopes_facing_the_sun_are_brighter(azimuth: float, rise_away_from_sun: tuple[float, float]) -> None:
    east, north = rise_away_from_sun  # ground that rises away from the sun faces it
    facing = hillshade(plane(east, north), 10, 10, azimuth_deg=azimuth)
    away = hillshade(plane(-east, -north), 10, 10, azimuth_deg=azimuth)
    assert facing.min() > 200 and away.max() < 100


def test_a_slope_facing_away_from_the_sun_darkens_as_the_sun_sinks() -> None:
    facing_south = plane(0, 1.0)  # rises to the north; the sun is in the north-west
    assert hillshade(facing_south, 10, 10, altitude_deg=10).mean() < hillshade(facing_south, 10, 10).mean()


def test_degrees_z_factor_matches_a_grid_in_metres() -> None:
    lat, cell_deg = -3.7, 0.001
    cell_m = cell_deg / degrees_z_factor(lat)
    dem = plane(0.2, 0.1, cell=cell_m)
    in_metres = hillshade(dem, cell_m, cell_m)
    in_degrees = hillshade(dem, cell_deg, cell_deg, z_factor=degrees_z_factor(lat))
    assert np.array_equal(in_metres, in_degrees)


def test_mercator_z_factor_grows_away_from_the_equator() -> None:
    assert mercator_z_factor(0) == 1 and mercator_z_factor(60) == pytest.approx(2)


@pytest.mark.parametrize("grid", [np.zeros(5), np.zeros((1, 5))])
def test_hillshade_refuses_grids_that_have_no_slope(grid: npt.NDArray[np.float64]) -> None:
    with pytest.raises(ValueError):
        hillshade(grid, 10, 10)
