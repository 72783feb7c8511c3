"""Hillshade of an elevation grid with numpy: sun azimuth and altitude, and z-factors for unit changes."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DEFAULT_AZIMUTH_DEG = 315.0  # from the north-west, the cartographic convention
DEFAULT_ALTITUDE_DEG = 45.0
_WGS84_A_M = 6_378_137.0


def hillshade(
    elevation: FloatArray,
    cell_x: float,
    cell_y: float,
    *,
    azimuth_deg: float = DEFAULT_AZIMUTH_DEG,
    altitude_deg: float = DEFAULT_ALTITUDE_DEG,
    z_factor: float = 1.0,
) -> npt.NDArray[np.uint8]:
    """Return the illumination (0 dark … 255 lit) of a north-up grid whose rows run southwards.

    `cell_x`/`cell_y` are the cell sizes in the grid's horizontal unit; `z_factor` turns an elevation unit
    into that unit (1 when both are metres; see `degrees_z_factor` and `mercator_z_factor`).
    """
    if elevation.ndim != 2 or min(elevation.shape) < 2:
        raise ValueError("hillshade needs a 2-D grid of at least 2 x 2 cells")
    if not (cell_x > 0 and cell_y > 0 and math.isfinite(z_factor)):
        raise ValueError("cell sizes must be positive and the z-factor finite")
    d_row, d_col = np.gradient(elevation.astype(np.float64), cell_y, cell_x)
    east_slope = d_col * z_factor
    north_slope = -d_row * z_factor  # row index grows southwards
    azimuth, altitude = math.radians(azimuth_deg), math.radians(altitude_deg)
    sun_east = math.sin(azimuth) * math.cos(altitude)
    sun_north = math.cos(azimuth) * math.cos(altitude)
    # The surface normal is (-east_slope, -north_slope, 1); light is its cosine with the sun direction.
    lit = (math.sin(altitude) - east_slope * sun_east - north_slope * sun_north) / np.sqrt(
        1.0 + east_slope**2 + north_slope**2
    )
    shade: npt.NDArray[np.uint8] = np.rint(np.clip(lit, 0.0, 1.0) * 255).astype(np.uint8)
    return shade


def degrees_z_factor(lat: float) -> float:
    """Return the z-factor for metres of elevation on a grid in degrees, at a latitude.

    It is one over the length of a degree of longitude there; a degree of latitude differs by under 1%
    within 10° of the equator.
    """
    metres = math.radians(1.0) * _WGS84_A_M * math.cos(math.radians(lat))
    if metres <= 0:
        raise ValueError("no z-factor at the poles")
    return 1.0 / metres


def mercator_z_factor(lat: float) -> float:
    """Return the z-factor for metres of elevation on a Web Mercator grid, whose metres grow by 1/cos(lat)."""
    cos_lat = math.cos(math.radians(lat))
    if cos_lat <= 0:
        raise ValueError("no z-factor at the poles")
    return 1.0 / cos_lat
