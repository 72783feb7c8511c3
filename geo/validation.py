"""Checks on geometry from clients before it is stored in PostGIS as EPSG:4326 lon/lat."""

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, Literal, NamedTuple

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.kinds import GeometryKind

MAX_VERTICES: Final = 100_000

Position = tuple[float, float]
LeafKind = Literal["points", "line", "ring"]


class GeometryError(ValueError):
    """A client's geometry cannot be stored: .code is stable, .reason English, .reason_id Indonesian."""

    def __init__(self, code: str, reason: str, reason_id: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.reason_id = reason_id


class _Layout(NamedTuple):
    levels: int  # arrays wrapping each list of positions
    leaf: LeafKind


_LAYOUTS: Final[dict[str, _Layout]] = {
    "MultiPoint": _Layout(0, "points"),
    "LineString": _Layout(0, "line"),
    "MultiLineString": _Layout(1, "line"),
    "Polygon": _Layout(1, "ring"),
    "MultiPolygon": _Layout(2, "ring"),
}
_TYPES: Final = ("Point", *_LAYOUTS)

# Minimum positions per list, with the English and Indonesian names used in messages.
_MINIMUM: Final[dict[LeafKind, tuple[int, str, str]]] = {
    "points": (1, "a MultiPoint", "MultiPoint"),
    "line": (2, "a line", "garis"),
    "ring": (4, "a polygon ring", "cincin poligon"),
}


def parse_geometry(
    obj: object, *, expected: GeometryKind | None = None, max_vertices: int = MAX_VERTICES
) -> BaseGeometry:
    """Return a valid shapely geometry from a GeoJSON geometry mapping, or raise GeometryError."""
    geojson_type, coords = _read_members(obj, expected)
    if geojson_type == "Point":
        geom = shapely.Point(_position(coords, "coordinates"))
    else:
        layout = _LAYOUTS[geojson_type]
        _count_vertices(coords, layout, max_vertices)
        geom = _build(geojson_type, _convert(coords, layout, "coordinates"))
    return check_geometry(geom, expected=expected, max_vertices=max_vertices)


def check_geometry(
    geom: BaseGeometry, *, expected: GeometryKind | None = None, max_vertices: int = MAX_VERTICES
) -> BaseGeometry:
    """Return the geometry in 2D if it can be stored as EPSG:4326, or raise GeometryError."""
    _check_type(geom.geom_type, expected)
    if geom.is_empty:
        raise GeometryError("empty", "geometry is empty", "geometri kosong")
    if shapely.get_num_coordinates(geom) > max_vertices:
        raise _too_many_vertices(max_vertices)
    coords = shapely.get_coordinates(geom, include_z=bool(shapely.has_z(geom)))
    if not np.isfinite(coords).all():
        raise GeometryError(
            "not_finite",
            "geometry has a coordinate that is not a finite number",
            "geometri memiliki koordinat yang bukan angka berhingga",
        )
    outside = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    if outside.any():
        x, y = coords[int(np.argmax(outside)), :2]
        _check_range(float(x), float(y), "")
    flat = shapely.force_2d(geom)
    _check_valid(flat)
    return flat


def _read_members(obj: object, expected: GeometryKind | None) -> tuple[str, Any]:
    if not isinstance(obj, Mapping):
        raise GeometryError(
            "not_an_object",
            "geometry must be a JSON object with 'type' and 'coordinates' members",
            "geometri harus berupa objek JSON dengan anggota 'type' dan 'coordinates'",
        )
    geojson_type = _check_type(obj.get("type"), expected)
    if "coordinates" not in obj:
        raise GeometryError(
            "bad_coordinates",
            "geometry has no 'coordinates' member",
            "geometri tidak memiliki anggota 'coordinates'",
        )
    coords = obj["coordinates"]
    if isinstance(coords, list | tuple) and not coords:
        raise GeometryError("empty", "geometry is empty", "geometri kosong")
    return geojson_type, coords


def _check_type(geojson_type: object, expected: GeometryKind | None) -> str:
    if geojson_type == "GeometryCollection":
        raise GeometryError(
            "geometry_collection",
            "GeometryCollection is not supported; send each geometry as its own feature",
            "GeometryCollection tidak didukung; kirim setiap geometri sebagai fitur tersendiri",
        )
    if not isinstance(geojson_type, str) or geojson_type not in _TYPES:
        names, shown = ", ".join(_TYPES), _brief(geojson_type)
        raise GeometryError(
            "unknown_type",
            f"unknown geometry type {shown}; use one of {names}",
            f"jenis geometri {shown} tidak dikenal; gunakan salah satu dari {names}",
        )
    if expected is not None and not expected.accepts(geojson_type):
        raise GeometryError(
            "wrong_type",
            f"layer expects {expected.label('en')} geometry, got {geojson_type}",
            f"layer ini memerlukan geometri {expected.label('id')}, bukan {geojson_type}",
        )
    return geojson_type


def _count_vertices(coords: object, layout: _Layout, limit: int) -> None:
    """Count positions from list lengths alone, so a huge input fails before any position is read."""
    count = 0
    for path, leaf in _leaves(coords, layout.levels, "coordinates"):
        _check_leaf_shape(leaf, layout.leaf, path)
        count += len(leaf)
        if count > limit:
            raise _too_many_vertices(limit)


def _leaves(node: object, levels: int, path: str) -> Iterator[tuple[str, Sequence[Any]]]:
    items = _array(node, path)
    if levels == 0:
        yield path, items
        return
    if not items:
        raise GeometryError("empty", f"{path} is empty", f"{path} kosong")
    for index, child in enumerate(items):
        yield from _leaves(child, levels - 1, f"{path}[{index}]")


def _array(node: object, path: str) -> Sequence[Any]:
    if not isinstance(node, list | tuple):
        raise _bad_coordinates(path, "must be an array", "harus berupa array")
    return node


def _check_leaf_shape(leaf: Sequence[Any], kind: LeafKind, path: str) -> None:
    # Peeking at the first item catches one level too few before the lengths below mislead.
    if leaf and not isinstance(leaf[0], list | tuple):
        raise _bad_coordinates(
            f"{path}[0]", "must be a position [lon, lat]", "harus berupa posisi [bujur, lintang]"
        )
    minimum, name, name_id = _MINIMUM[kind]
    if len(leaf) < minimum:
        raise GeometryError(
            "too_few_points",
            f"{path}: {name} needs at least {minimum} positions, got {len(leaf)}",
            f"{path}: {name_id} memerlukan minimal {minimum} posisi, hanya ada {len(leaf)}",
        )


def _convert(node: Sequence[Any], layout: _Layout, path: str) -> list[Any]:
    """Return the coordinates as nested lists of 2D tuples, after checking every position."""
    if layout.levels == 0:
        return _read_leaf(node, layout.leaf, path)
    inner = _Layout(layout.levels - 1, layout.leaf)
    return [_convert(child, inner, f"{path}[{index}]") for index, child in enumerate(node)]


def _read_leaf(leaf: Sequence[Any], kind: LeafKind, path: str) -> list[Position]:
    positions = [_position(item, f"{path}[{index}]") for index, item in enumerate(leaf)]
    if kind == "ring" and positions[0] != positions[-1]:
        raise GeometryError(
            "ring_not_closed",
            f"{path}: polygon ring is not closed; its first and last positions must be equal",
            f"{path}: cincin poligon tidak tertutup; posisi pertama dan terakhir harus sama",
        )
    if kind == "line" and len(set(positions)) < 2:
        raise GeometryError(
            "too_few_points",
            f"{path}: a line needs at least 2 distinct positions",
            f"{path}: garis memerlukan minimal 2 posisi yang berbeda",
        )
    return positions


def _position(value: object, path: str) -> Position:
    if not isinstance(value, list | tuple):
        raise _bad_coordinates(path, "must be a position [lon, lat]", "harus berupa posisi [bujur, lintang]")
    if not 2 <= len(value) <= 3:
        raise _bad_coordinates(
            path,
            f"must have 2 or 3 numbers, got {len(value)}",
            f"harus berisi 2 atau 3 angka, ada {len(value)}",
        )
    for axis, number in enumerate(value):
        _check_number(number, f"{path}[{axis}]")
    # Range is checked before float() so that a huge JSON integer cannot overflow.
    _check_range(value[0], value[1], path)
    return float(value[0]), float(value[1])


def _check_number(number: object, path: str) -> None:
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        shown = json.dumps(number)
        raise GeometryError(
            "not_finite",
            f"{path} must be a finite number, got {shown}",
            f"{path} harus berupa angka berhingga, bukan {shown}",
        )
    # bool is an int subclass, and JSON true must not pass as 1.
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise _bad_coordinates(path, "must be a number", "harus berupa angka")


def _check_range(lon: float, lat: float, path: str) -> None:
    if not -180 <= lon <= 180:
        raise _out_of_range("longitude", "bujur", lon, 180, path)
    if not -90 <= lat <= 90:
        raise _out_of_range("latitude", "lintang", lat, 90, path)


def _out_of_range(axis: str, axis_id: str, value: float, limit: int, path: str) -> GeometryError:
    at = f" at {path}" if path else ""
    at_id = f" pada {path}" if path else ""
    shown = _brief(value)
    return GeometryError(
        "out_of_range",
        f"{axis} {shown}{at} is outside -{limit}..{limit}; positions must be [lon, lat] in EPSG:4326",
        f"{axis_id} {shown}{at_id} di luar rentang -{limit}..{limit}; posisi harus [bujur, lintang] "
        "dalam EPSG:4326",
    )


def _build(geojson_type: str, coords: list[Any]) -> BaseGeometry:
    if geojson_type == "Polygon":
        return _polygon(coords)
    if geojson_type == "MultiPolygon":
        return shapely.MultiPolygon([_polygon(rings) for rings in coords])
    if geojson_type == "MultiLineString":
        return shapely.MultiLineString(coords)
    if geojson_type == "LineString":
        return shapely.LineString(coords)
    return shapely.MultiPoint(coords)


def _polygon(rings: list[list[Position]]) -> BaseGeometry:
    return shapely.Polygon(rings[0], rings[1:])


def _check_valid(geom: BaseGeometry) -> None:
    reason = str(shapely.is_valid_reason(geom))
    if reason == "Valid Geometry":
        return
    if reason.startswith("Too few points"):
        raise GeometryError(
            "too_few_points",
            f"geometry has too few distinct points: {reason}",
            f"geometri memiliki terlalu sedikit titik yang berbeda: {reason}",
        )
    # GEOS reports the reason in English only; it still locates the problem for Indonesian readers.
    raise GeometryError("invalid", f"geometry is not valid: {reason}", f"geometri tidak valid: {reason}")


def _too_many_vertices(limit: int) -> GeometryError:
    return GeometryError(
        "too_many_vertices",
        f"geometry has more than {limit} vertices",
        f"geometri memiliki lebih dari {limit} verteks",
    )


def _bad_coordinates(path: str, problem: str, problem_id: str) -> GeometryError:
    return GeometryError("bad_coordinates", f"{path} {problem}", f"{path} {problem_id}")


def _brief(value: object) -> str:
    """Return a repr short enough to quote a hostile value in a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
