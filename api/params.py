"""Parsing of query parameters into bounded values; errors become 400 problem bodies."""

from __future__ import annotations

from datetime import datetime

from geo.bbox import BBox, InvalidBBox, check_in_crs, check_lonlat, parse_bbox
from geo.crs import UnsupportedCrs, parse_crs_uri, supported_crs_uris
from layers.features.times import bad_parameter, instant

MAX_LIMIT = 10_000
MAX_OFFSET = 1_000_000
MAX_LIST = 50

bad = bad_parameter  # the routes' name for it

Interval = tuple[datetime | None, datetime | None]


def crs_param(param: str, value: str | None) -> tuple[int, bool, str | None]:
    """Return (SRID, axes swapped, URI) for a CRS parameter; default CRS84."""
    if value is None:
        return 4326, False, None
    try:
        srid, swapped = parse_crs_uri(value)
    except UnsupportedCrs:
        allowed = ", ".join(supported_crs_uris())
        raise bad(
            param, f"unsupported CRS; use one of {allowed}", f"CRS tidak didukung; gunakan {allowed}"
        ) from None
    return srid, swapped, value.strip()


def content_crs_param(value: str | None) -> tuple[int, bool, str | None]:
    """Return (SRID, axes swapped, URI) of a Content-Crs header ("<uri>" or a bare URI); default CRS84."""
    if value is None:
        return 4326, False, None
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    return crs_param("Content-Crs", text)


def bbox_param(value: str, srid: int, swapped: bool) -> BBox:
    """Return a bbox in x/y order of its CRS, refused outside the area that CRS is defined for."""
    try:
        bbox = parse_bbox(value, northing_first=swapped)
        return check_lonlat(bbox) if srid == 4326 else check_in_crs(bbox, srid)
    except InvalidBBox as exc:
        raise bad("bbox", str(exc), exc.reason_id) from None


def interval_param(value: str) -> Interval:
    """Return (start, end) from an instant, "a/b", "../b", "a/.." or "a/"; open ends are None."""
    if len(value) > 100:
        raise bad("datetime", "too long", "terlalu panjang")
    if "/" not in value:
        moment = instant("datetime", value)
        return moment, moment
    start_text, _, end_text = value.partition("/")
    start = None if start_text in ("", "..") else instant("datetime", start_text)
    end = None if end_text in ("", "..") else instant("datetime", end_text)
    if start is None and end is None:
        raise bad(
            "datetime", "an interval needs at least one end", "interval memerlukan setidaknya satu ujung"
        )
    if start is not None and end is not None and start > end:
        raise bad("datetime", "interval start is after its end", "awal interval setelah akhirnya")
    return start, end


def names_param(param: str, value: str) -> tuple[str, ...]:
    """Return a comma-separated list of names, bounded in count and length."""
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if len(names) > MAX_LIST or any(len(n) > 64 for n in names):
        raise bad(param, f"at most {MAX_LIST} names of 64 characters", f"paling banyak {MAX_LIST} nama")
    return names


def sortby_param(value: str) -> tuple[tuple[str, bool], ...]:
    """Return ((name, descending), ...) from "name,-other,+third"."""
    out = []
    for item in names_param("sortby", value):
        descending = item.startswith("-")
        out.append((item.lstrip("+-"), descending))
    return tuple(out)


def int_param(param: str, value: str | None, default: int, low: int, high: int) -> int:
    """Return an integer parameter within [low, high], with a clear error otherwise."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad(param, "must be an integer", "harus bilangan bulat") from None
    if not low <= number <= high:
        raise bad(param, f"must be between {low} and {high}", f"harus antara {low} dan {high}")
    return number
