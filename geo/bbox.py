"""Bounding boxes from query strings: 4 or 6 numbers, finite, ordered."""

from __future__ import annotations

import math
from collections.abc import Iterable

from geo.crs import describe_crs_bounds, within_crs

BBox = tuple[float, float, float, float]


class InvalidBBox(ValueError):
    """A bbox that cannot be used; `reason_id` holds the Indonesian text."""

    def __init__(self, reason: str, reason_id: str) -> None:
        super().__init__(reason)
        self.reason_id = reason_id


def parse_bbox(text: str, *, northing_first: bool = False) -> BBox:
    """Return (minx, miny, maxx, maxy) from 4 or 6 comma-separated numbers, swapping lat/lon if asked."""
    parts = text.split(",")
    if len(parts) not in (4, 6) or len(text) > 400:
        raise InvalidBBox("bbox takes 4 or 6 comma-separated numbers", "bbox memerlukan 4 atau 6 angka")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidBBox("bbox values must be numbers", "nilai bbox harus angka") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidBBox("bbox values must be finite", "nilai bbox harus terhingga")
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    a, b, c, d = values
    minx, miny, maxx, maxy = (b, a, d, c) if northing_first else (a, b, c, d)
    if minx > maxx or miny > maxy:
        raise InvalidBBox(
            "bbox lower corner must come before the upper corner", "sudut bawah bbox harus lebih kecil"
        )
    return minx, miny, maxx, maxy


def check_lonlat(bbox: BBox) -> BBox:
    """Return the bbox if it lies within lon -180..180 and lat -90..90, else raise InvalidBBox."""
    minx, miny, maxx, maxy = bbox
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidBBox("bbox is outside longitude/latitude range", "bbox di luar rentang bujur/lintang")
    return bbox


def check_in_crs(bbox: BBox, srid: int) -> BBox:
    """Return the bbox if it lies inside the area its CRS is defined for, else raise InvalidBBox."""
    if not within_crs(bbox, srid):
        area = describe_crs_bounds(srid)
        raise InvalidBBox(
            f"bbox lies outside the area {area} is defined for",
            f"bbox di luar wilayah yang dicakup {area}",
        )
    return bbox


def union(boxes: Iterable[BBox | None]) -> BBox | None:
    """Return the bbox covering every given one (None entries ignored), or None when there is none."""
    found = [b for b in boxes if b is not None]
    if not found:
        return None
    return (
        min(b[0] for b in found),
        min(b[1] for b in found),
        max(b[2] for b in found),
        max(b[3] for b in found),
    )
