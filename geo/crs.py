"""Coordinate reference systems: the storage CRS, web mercator and the city's metric UTM zone."""

from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

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
