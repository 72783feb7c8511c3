"""The land polygon of the built-in offline basemap, as GeoJSON for a MapLibre source."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from basemaps.errors import SourceUnreadable

MAX_LAND_BYTES = 20 * 1024 * 1024
SIMPLIFY_DEG = 0.00002  # ~2 m: invisible at the zooms a basemap is read at, and keeps the document small
COORD_DIGITS = 6


def land_from_file(path: Path) -> BaseGeometry:
    """Return the union of the polygons in a GeoJSON file of the city's land (EPSG:4326)."""
    try:
        size = path.stat().st_size
    except OSError:
        raise SourceUnreadable(
            f"land file {path.name} is missing", f"berkas daratan {path.name} tidak ada"
        ) from None
    if size > MAX_LAND_BYTES:
        raise SourceUnreadable(
            f"land file {path.name} is too large", f"berkas daratan {path.name} terlalu besar"
        )
    return _land(str(path.resolve()), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _land(path: str, mtime_ns: int) -> BaseGeometry:
    try:
        doc = json.loads(Path(path).read_text("utf-8"))
        features = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
        geoms = [shape(f["geometry"] if f.get("type") == "Feature" else f) for f in features]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SourceUnreadable("the land file is not GeoJSON", "berkas daratan bukan GeoJSON") from None
    polygons = [g for g in geoms if isinstance(g, Polygon | MultiPolygon) and g.is_valid]
    if not polygons:
        raise SourceUnreadable("the land file has no valid polygon", "berkas daratan tanpa poligon sah")
    return shapely.union_all(polygons)


def land_geojson(land: BaseGeometry) -> dict[str, Any]:
    """Return the land as a one-feature GeoJSON FeatureCollection, lightly simplified and rounded."""
    simplified = shapely.set_precision(
        shapely.simplify(land, SIMPLIFY_DEG, preserve_topology=True), 10**-COORD_DIGITS
    )
    geometry = json.loads(shapely.to_geojson(simplified))
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": 1, "properties": {"kind": "land"}, "geometry": geometry}],
    }
