"""The geometry family a layer declares, and the GeoJSON types that belong to it."""

from enum import StrEnum
from typing import Literal


class GeometryKind(StrEnum):
    """The geometry family a layer declares; single and multi variants both belong to it."""

    POINT = "point"
    LINE = "line"
    POLYGON = "polygon"

    def accepts(self, geojson_type: str) -> bool:
        """Return whether a GeoJSON geometry type such as "MultiPolygon" belongs to this family."""
        return geojson_type in _GEOJSON_TYPES[self]

    def postgis_type(self) -> str:
        """Return the multi variant's name, the one type that holds every geometry of this family."""
        return _GEOJSON_TYPES[self][1]

    def label(self, language: Literal["en", "id"] = "en") -> str:
        """Return the family's name for messages, in English or Indonesian."""
        return self.value if language == "en" else _LABELS_ID[self]


_GEOJSON_TYPES: dict[GeometryKind, tuple[str, str]] = {
    GeometryKind.POINT: ("Point", "MultiPoint"),
    GeometryKind.LINE: ("LineString", "MultiLineString"),
    GeometryKind.POLYGON: ("Polygon", "MultiPolygon"),
}

_LABELS_ID: dict[GeometryKind, str] = {
    GeometryKind.POINT: "titik",
    GeometryKind.LINE: "garis",
    GeometryKind.POLYGON: "poligon",
}
