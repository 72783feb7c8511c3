"""Coordinate reference systems: the storage CRS, web mercator and the city's metric UTM zone."""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

from geo.digits import whole_number

STORAGE_SRID = 4326
WEB_MERCATOR_SRID = 3857
AMBON_UTM_SRID = 32752  # WGS 84 / UTM zone 52S


def utm_srid(lon: float, lat: float) -> int:
    """Return the EPSG code of the WGS 84 UTM zone that holds (lon, lat)."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32700 if lat < 0 else 32600) + zone


@lru_cache(maxsize=64)
def _transformers(srid: int) -> tuple[Transformer, Transformer]:
    utm = CRS.from_epsg(srid)
    lonlat = CRS.from_epsg(STORAGE_SRID)
    return (
        Transformer.from_crs(lonlat, utm, always_xy=True),
        Transformer.from_crs(utm, lonlat, always_xy=True),
    )


def utm_transformers(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Return (lon/lat -> UTM, UTM -> lon/lat) transformers for the zone holding (lon, lat), xy order."""
    return _transformers(utm_srid(lon, lat))


def metric_transformers(srid: int = AMBON_UTM_SRID) -> tuple[Transformer, Transformer]:
    """Return (lon/lat -> metric, metric -> lon/lat) transformers for a city's metric CRS, xy order."""
    return _transformers(srid)


CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_PREFIX = "http://www.opengis.net/def/crs/EPSG/0/"
# The output/input CRSs kendali offers; CRS84 is lon/lat, the EPSG ones follow their own axis order.
SUPPORTED_SRIDS = (4326, 3857, 32752, 4755)


class UnsupportedCrs(ValueError):
    """A CRS URI kendali does not offer."""


def crs_uri(srid: int | None) -> str:
    """Return the OGC URI of an SRID (None means CRS84)."""
    return CRS84_URI if srid is None else f"{_EPSG_PREFIX}{srid}"


def supported_crs_uris() -> list[str]:
    """Return every CRS URI kendali accepts, CRS84 first."""
    return [CRS84_URI, *(crs_uri(s) for s in SUPPORTED_SRIDS)]


def parse_crs_uri(uri: str) -> tuple[int, bool]:
    """Return (SRID, axes swapped) for an OGC CRS URI; CRS84 is (4326, False); raise UnsupportedCrs."""
    text = uri.strip()
    if text in (CRS84_URI, "[OGC:CRS84]", "OGC:CRS84"):
        return STORAGE_SRID, False
    code: str | None = None
    if text.startswith(_EPSG_PREFIX):
        code = text[len(_EPSG_PREFIX) :]
    elif text.upper().startswith("EPSG:"):
        code = text[5:]
    elif text.upper().startswith("[EPSG:") and text.endswith("]"):
        code = text[6:-1]
    srid = whole_number(code, 6) if code is not None else None
    if srid is None or srid not in SUPPORTED_SRIDS:
        raise UnsupportedCrs(text[:120])
    return srid, northing_first(srid)


@lru_cache(maxsize=32)
def northing_first(srid: int) -> bool:
    """Return whether the CRS's first axis points north or south (EPSG:4326 is lat/lon)."""
    first = CRS.from_epsg(srid).axis_info[0].direction.lower()
    return first in ("north", "south")


@lru_cache(maxsize=32)
def crs_bounds(srid: int) -> tuple[float, float, float, float]:
    """Return (minx, miny, maxx, maxy) of the area a CRS is defined for, in its x/y (PostGIS) order.

    The area of use is EPSG's (through pyproj), in degrees, projected into the CRS. Outside it PROJ
    either fails (UTM far from its zone) or answers nonsense (web mercator past 180°).
    """
    crs = CRS.from_epsg(srid)
    area = crs.area_of_use
    if area is None:
        raise ValueError(f"EPSG:{srid} declares no area of use")
    to_crs = Transformer.from_crs(CRS.from_epsg(STORAGE_SRID), crs, always_xy=True)
    minx, miny, maxx, maxy = to_crs.transform_bounds(
        area.west, area.south, area.east, area.north, densify_pts=21
    )
    return float(minx), float(miny), float(maxx), float(maxy)


def within_crs(bounds: tuple[float, float, float, float], srid: int) -> bool:
    """Return whether x/y bounds lie inside the area the CRS is defined for."""
    minx, miny, maxx, maxy = crs_bounds(srid)
    return minx <= bounds[0] and miny <= bounds[1] and bounds[2] <= maxx and bounds[3] <= maxy


def describe_crs_bounds(srid: int) -> str:
    """Return the area a CRS is defined for as text, "EPSG:n (x a..b, y c..d)", for error messages."""
    minx, miny, maxx, maxy = crs_bounds(srid)
    return f"EPSG:{srid} (x {minx:.10g}..{maxx:.10g}, y {miny:.10g}..{maxy:.10g})"
