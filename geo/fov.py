"""Field-of-view polygons for cameras, built in a metric CRS."""

from __future__ import annotations

import math

import numpy as np
from shapely import Polygon

from geo.crs import utm_transformers

ARC_STEPS = 16


def field_of_view(lon: float, lat: float, direction_deg: float, fov_deg: float, range_m: float) -> Polygon:
    """Return the lon/lat sector a camera at (lon, lat) sees, facing `direction_deg` clockwise from north."""
    to_utm, to_lonlat = utm_transformers(lon, lat)
    x0, y0 = to_utm.transform(lon, lat)
    if fov_deg >= 360:
        arc = [_at(x0, y0, 360.0 * i / (ARC_STEPS * 2), range_m) for i in range(ARC_STEPS * 2)]
    else:
        start = direction_deg - fov_deg / 2
        arc = [_at(x0, y0, start + fov_deg * i / ARC_STEPS, range_m) for i in range(ARC_STEPS + 1)]
    xs, ys = zip(*arc, strict=True)
    lons, lats = to_lonlat.transform(np.array(xs), np.array(ys))
    ring = list(zip(lons.tolist(), lats.tolist(), strict=True))
    # The apex is the camera's own stored position, exactly, so the sector always covers its camera.
    return Polygon(ring if fov_deg >= 360 else [(lon, lat), *ring])


def _at(x0: float, y0: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    theta = math.radians(bearing_deg)
    return x0 + distance_m * math.sin(theta), y0 + distance_m * math.cos(theta)
