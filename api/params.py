"""Parsing of OGC API query parameters into bounded values; errors become 400 problem bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Query

from geo.bbox import BBox, InvalidBBox, check_lonlat, parse_bbox
from geo.crs import UnsupportedCrs, parse_crs_uri, supported_crs_uris
from layers.errors import InvalidInput

MAX_LIMIT = 10_000
MAX_OFFSET = 1_000_000
MAX_LIST = 50

Interval = tuple[datetime | None, datetime | None]


def bad(param: str, en: str, id_: str) -> InvalidInput:
    """Return an InvalidInput about one query parameter."""
    return InvalidInput(f"{param}: {en}", f"{param}: {id_}", parameter=param)


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


def bbox_param(value: str, srid: int, swapped: bool) -> BBox:
    """Return a bbox in x/y order of its CRS."""
    try:
        bbox = parse_bbox(value, northing_first=swapped)
        return check_lonlat(bbox) if srid == 4326 else bbox
    except InvalidBBox as exc:
        raise bad("bbox", str(exc), exc.reason_id) from None


def instant(param: str, text: str) -> datetime:
    """Return a timezone-aware instant from RFC 3339 text (UTC when no zone is given)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad(
            param, f"not an RFC 3339 date-time: {text[:40]!r}", f"bukan tanggal-waktu RFC 3339: {text[:40]!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


def items_parameters(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Features per page (default 100).")] = 100,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (or 6 numbers) in bbox-crs.")] = None,
    bbox_crs: Annotated[
        str | None, Query(alias="bbox-crs", description="CRS URI of bbox; default CRS84.")
    ] = None,
    datetime_: Annotated[
        str | None,
        Query(alias="datetime", description="Instant or interval (a/b, ../b, a/..) on observed_at."),
    ] = None,
    cursor: Annotated[str | None, Query(description="Paging cursor from a next/prev link.")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Start offset (with sortby).")] = 0,
    sortby: Annotated[str | None, Query(description="Comma-separated queryables, - for descending.")] = None,
    properties: Annotated[str | None, Query(description="Comma-separated properties to return.")] = None,
    filter_: Annotated[str | None, Query(alias="filter", description="CQL2 filter expression.")] = None,
    filter_lang: Annotated[
        Literal["cql2-text", "cql2-json"] | None, Query(alias="filter-lang", description="Filter language.")
    ] = None,
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="CRS URI of filter geometries.")
    ] = None,
    crs: Annotated[
        str | None, Query(description="CRS URI of the returned geometries; default CRS84.")
    ] = None,
    at: Annotated[
        str | None, Query(description="Time travel: the status each feature had at this instant.")
    ] = None,
    f: Annotated[Literal["json", "html"] | None, Query(description="Output format.")] = None,
    lang: Annotated[Literal["id", "en"] | None, Query(description="Language of texts.")] = None,
) -> None:
    """Declare the items query parameters for the OpenAPI document; they are parsed in build_query."""


ItemsParams = Annotated[None, Depends(items_parameters)]
