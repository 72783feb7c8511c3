"""Reading CQL2: cql2-text and cql2-json into a pygeofilter AST, and its literals into checked values."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from typing import Any, Final

import numpy as np
import shapely
from lark import Lark, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from pygeofilter import ast, values
from pygeofilter.cql2 import (
    ARITHMETIC_MAP,
    ARRAY_PREDICATES_MAP,
    SPATIAL_PREDICATES_MAP,
    TEMPORAL_PREDICATES_MAP,
)
from pygeofilter.parsers.cql2_text.parser import CQLTransformer
from shapely.errors import ShapelyError
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from geo.crs import describe_crs_bounds, within_crs
from layers.errors import InvalidInput

MAX_FILTER_LENGTH = 20_000  # characters of cql2-text / serialized cql2-json
MAX_DEPTH = 30  # nesting of the AST; a chain of the same AND/OR counts once, as CQL2's n-ary and/or
MAX_VERTICES = 10_000  # in geometry literals

_GEOGRAPHIC_SRIDS: Final = frozenset({4326, 4755})
_GEOMETRY_TYPES: Final = frozenset(
    {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"}
)


class TimeIntersects(ast.TemporalPredicate):  # type: ignore[misc]
    """T_INTERSECTS, which pygeofilter 0.4 reads as T_OVERLAPS."""

    op = "INTERSECTS"


COMPARISONS: Final = {
    "=": ast.Equal,
    "<>": ast.NotEqual,
    "<": ast.LessThan,
    "<=": ast.LessEqual,
    ">": ast.GreaterThan,
    ">=": ast.GreaterEqual,
}
TEMPORAL_CLASSES: Final = {
    **TEMPORAL_PREDICATES_MAP,
    "t_intersects": TimeIntersects,
    "t_starts": ast.TimeBegins,
    "t_startedby": ast.TimeBegunBy,
    "t_finishes": ast.TimeEnds,
    "t_finishedby": ast.TimeEndedBy,
    "t_disjoint": ast.TimeDisjoint,
}
# The CQL2 name of each AST class, for messages.
OPERATOR_NAMES: Final[dict[type, str]] = {
    **{
        cls: key.upper()
        for key, cls in {
            **COMPARISONS,
            **SPATIAL_PREDICATES_MAP,
            **ARRAY_PREDICATES_MAP,
            **TEMPORAL_CLASSES,
        }.items()
    },
    ast.Relate: "S_RELATE",
    ast.DistanceBeyond: "S_BEYOND",
    ast.Exists: "EXISTS",
}


def parse_filter(text: str, lang: str) -> ast.Node:
    """Return the pygeofilter AST of a cql2-text or cql2-json filter, or raise InvalidInput."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(
            f"the filter is too long: {len(text)} characters, at most {MAX_FILTER_LENGTH}",
            f"filter terlalu panjang: {len(text)} karakter, paling banyak {MAX_FILTER_LENGTH}",
        )
    if not text.strip():
        raise InvalidInput("the filter is empty", "filter kosong")
    if lang == "cql2-text":
        node = _parse_text(text)
    elif lang == "cql2-json":
        node = _parse_json(text)
    else:
        raise InvalidInput(
            f"filter-lang {shorten(lang)!r} is not supported; use cql2-text or cql2-json",
            f"filter-lang {shorten(lang)!r} tidak didukung; pakai cql2-text atau cql2-json",
        )
    check_depth(node)
    return node


def check_depth(root: Any) -> None:
    """Raise InvalidInput if the AST nests deeper than MAX_DEPTH."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if not isinstance(node, ast.Node):
            continue
        for child in node.get_sub_nodes():
            chained = isinstance(node, ast.And | ast.Or) and type(child) is type(node) and child is node.lhs
            stack.append((child, depth if chained else depth + 1))


# --- errors -------------------------------------------------------------------------------------------


def shorten(value: object, limit: int = 60) -> str:
    """Return the value as text of at most `limit` characters, for quoting in messages."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bad_geometry(en: str, id_: str) -> InvalidInput:
    """Return the error for an invalid geometry literal."""
    return InvalidInput(
        f"the geometry in the filter is not valid: {en}", f"geometri dalam filter tidak sah: {id_}"
    )


def _malformed(lang: str, en: str, id_: str) -> InvalidInput:
    return InvalidInput(f"the {lang} filter is malformed: {en}", f"filter {lang} tidak sah: {id_}")


def _too_deep() -> InvalidInput:
    return InvalidInput(
        f"the filter is nested too deeply: at most {MAX_DEPTH} levels",
        f"filter bersarang terlalu dalam: paling banyak {MAX_DEPTH} tingkat",
    )


# --- cql2-text ----------------------------------------------------------------------------------------

# pygeofilter 0.4's grammar lacks S_DWITHIN, T_*(a, b) calls, open intervals, '' escapes, NOT (a AND b)
# and gives AND and OR the same precedence; these rules fix that on top of its grammar.
_GRAMMAR_FIXES: Final = r"""
%override ?condition: conjunction
                    | condition "OR"i conjunction                                       -> or_
?conjunction: condition_1
            | conjunction "AND"i condition_1                                            -> and_
%override ?condition_1: predicate
                      | "NOT"i condition_1                                              -> not_
                      | "(" condition ")"
%extend spatial_predicate: "S_DWITHIN"i "(" expression "," expression "," full_number ")" -> dwithin
%extend _binary_temporal_predicate_func: "T_DISJOINT"i | "T_STARTS"i | "T_STARTEDBY"i | "T_FINISHES"i
                                       | "T_FINISHEDBY"i
%extend temporal_predicate: _binary_temporal_predicate_func "(" expression "," expression ")" -> temporal_call
%override interval: "INTERVAL"i "(" bound "," bound ")"
?bound: "'" DATETIME "'" | "'" DATE "'" | "'..'"                                        -> open_bound
%override SINGLE_QUOTED: /'(?:[^']|'')*'/
"""


@v_args(inline=True)
class _TextTransformer(CQLTransformer):  # type: ignore[misc]
    """pygeofilter's cql2-text transformer, with the rules added in _GRAMMAR_FIXES."""

    def binary_temporal_predicate(self, lhs: Any, op: str, rhs: Any) -> Any:
        return TEMPORAL_CLASSES[str(op).lower()](lhs, rhs)

    def temporal_call(self, op: str, lhs: Any, rhs: Any) -> Any:
        return self.binary_temporal_predicate(lhs, op, rhs)

    def dwithin(self, lhs: Any, rhs: Any, distance: Any) -> Any:
        return ast.DistanceWithin(lhs, rhs, distance, "metres")

    def open_bound(self) -> None:
        return None

    def SINGLE_QUOTED(self, token: str) -> str:
        return token[1:-1].replace("''", "'")

    def DATETIME(self, token: str) -> datetime:
        return datetime.fromisoformat(token)

    def DATE(self, token: str) -> date:
        return date.fromisoformat(token)

    def wkt__geometry_with_srid(self, srid: Any, geometry: dict[str, Any]) -> dict[str, Any]:
        return {**geometry, "srid": int(srid)}  # pygeofilter's own version prints to stdout

    def wkt__multipoint_2(self, *coordinates: Any) -> dict[str, Any]:
        return {"type": "MultiPoint", "coordinates": coordinates}


@cache
def _text_parser() -> Lark:
    grammar = files("pygeofilter.parsers.cql2_text") / "grammar.lark"
    return Lark(
        grammar.read_text() + _GRAMMAR_FIXES,
        parser="lalr",
        maybe_placeholders=False,
        transformer=_TextTransformer(),
        source_path=str(grammar),
        import_paths=[str(files("pygeofilter.parsers"))],
    )


def _parse_text(text: str) -> Any:
    try:
        return _text_parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc) from None
    except (LarkError, TypeError, ValueError, OverflowError) as exc:
        raise _malformed("cql2-text", shorten(exc, 120), shorten(exc, 120)) from None


def _syntax_error(exc: UnexpectedInput) -> InvalidInput:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return _malformed(
            "cql2-text",
            "it ends too early; is a closing parenthesis or quote missing?",
            "filter berakhir terlalu cepat; apakah tanda kurung tutup atau tanda kutip hilang?",
        )
    what = (
        repr(exc.char) if isinstance(exc, UnexpectedCharacters) else repr(shorten(getattr(exc, "token", "")))
    )
    return _malformed(
        "cql2-text",
        f"unexpected {what} at line {exc.line}, column {exc.column}",
        f"{what} tidak terduga pada baris {exc.line}, kolom {exc.column}",
    )


# --- cql2-json ----------------------------------------------------------------------------------------

_JSON_OPS: Final[dict[str, tuple[int, Callable[..., Any]]]] = {
    **{key: (2, cls) for key, cls in COMPARISONS.items()},
    **{key: (2, cls) for key, cls in SPATIAL_PREDICATES_MAP.items()},
    **{key: (2, cls) for key, cls in TEMPORAL_CLASSES.items()},
    **{key: (2, cls) for key, cls in ARRAY_PREDICATES_MAP.items()},
    **{key: (2, cls) for key, cls in ARITHMETIC_MAP.items()},
    "not": (1, ast.Not),
    "isnull": (1, lambda a: ast.IsNull(a, False)),
    "like": (2, lambda a, p: ast.Like(a, p, False, "%", "_", "\\", False)),
    "between": (3, lambda a, low, high: ast.Between(a, low, high, False)),
    "in": (2, lambda a, options: ast.In(a, options, False)),
    "s_dwithin": (3, lambda a, b, d: ast.DistanceWithin(a, b, d, "metres")),
    "casei": (1, lambda a: ast.Function("lower", [a])),
    "accenti": (1, lambda a: ast.Function("accenti", [a])),
}


def _parse_json(text: str) -> Any:
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise _malformed(
            "cql2-json",
            f"not valid JSON: {exc.msg} at {where}",
            f"bukan JSON yang sah: {exc.msg} pada {where}",
        ) from None
    return _json_node(document, "filter", 1)


def _reject_constant(name: str) -> float:
    raise _malformed("cql2-json", f"{name} is not a number", f"{name} bukan angka")


def _json_error(path: str, en: str, id_: str) -> InvalidInput:
    return _malformed("cql2-json", f"{en} (at {path})", f"{id_} (pada {path})")


def _json_node(obj: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _too_deep()
    if isinstance(obj, str | bool | int | float):
        return obj
    if isinstance(obj, list):
        return [_json_node(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(obj)]
    if isinstance(obj, dict):
        return _json_object(obj, path, depth)
    raise _json_error(path, "null is not a CQL2 value; use isNull", "null bukan nilai CQL2; pakai isNull")


def _json_object(obj: dict[str, Any], path: str, depth: int) -> Any:
    if "op" in obj:
        return _json_op(obj, path, depth)
    if isinstance(obj.get("property"), str):
        return ast.Attribute(obj["property"])
    for key, read in _JSON_LITERALS.items():
        if key in obj:
            try:
                return read(obj[key])
            except (TypeError, ValueError) as exc:
                raise _json_error(f"{path}.{key}", shorten(exc, 120), shorten(exc, 120)) from None
    if obj.get("type") in _GEOMETRY_TYPES:
        return values.Geometry({k: v for k, v in obj.items() if k in ("type", "coordinates", "geometries")})
    members = shorten(", ".join(map(str, obj)))
    raise _json_error(
        path, f"unknown object with members {members}", f"objek tak dikenal dengan anggota {members}"
    )


def _json_op(obj: dict[str, Any], path: str, depth: int) -> Any:
    op, args = obj["op"], obj.get("args")
    if not isinstance(op, str) or not isinstance(args, list):
        raise _json_error(
            path, 'an operation needs a string "op" and a list "args"', 'operasi perlu "op" dan "args"'
        )
    items = [_json_node(arg, f"{path}.args[{i}]", depth + 1) for i, arg in enumerate(args)]
    key = op.lower()
    if key in ("and", "or"):
        if len(items) < 2:
            raise _json_error(
                path, f"{op!r} needs at least 2 arguments", f"{op!r} perlu paling sedikit 2 argumen"
            )
        return (ast.And if key == "and" else ast.Or).from_items(*items)
    arity, build = _JSON_OPS.get(key, (len(items), lambda *a: ast.Function(op, list(a))))
    if len(items) != arity:
        raise _json_error(
            path,
            f"{shorten(op)!r} takes {arity} arguments, not {len(items)}",
            f"{op!r} perlu {arity} argumen",
        )
    if key == "in" and not (isinstance(items[1], list) and items[1]):
        raise _json_error(
            path, "the second argument of 'in' must be a non-empty list", "argumen kedua 'in' harus daftar"
        )
    return build(*items)


def _json_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _json_bound(value: Any) -> date | None:
    if value == "..":
        return None
    if not isinstance(value, str):
        raise TypeError("interval bounds must be strings: a date, a timestamp or '..'")
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def _json_interval(value: Any) -> values.Interval:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("an interval is a list of two bounds")
    return values.Interval(_json_bound(value[0]), _json_bound(value[1]))


_JSON_LITERALS: Final[dict[str, Callable[[Any], Any]]] = {
    "timestamp": _json_timestamp,
    "date": date.fromisoformat,
    "interval": _json_interval,
    "bbox": lambda bbox: envelope(bbox),
}


# --- geometry literals --------------------------------------------------------------------------------


def envelope(bbox: Any) -> values.Envelope:
    """Return the envelope of a 4- or 6-number bbox, or raise ValueError."""
    if not isinstance(bbox, list | tuple) or len(bbox) not in (4, 6):
        raise ValueError("a bbox has 4 numbers (minx, miny, maxx, maxy) or 6 with heights")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox):
        raise ValueError("a bbox holds numbers only")
    half = len(bbox) // 2
    minx, miny, maxx, maxy = bbox[0], bbox[1], bbox[half], bbox[half + 1]
    if minx > maxx or miny > maxy:
        raise ValueError("a bbox needs minx <= maxx and miny <= maxy")
    return values.Envelope(x1=minx, x2=maxx, y1=miny, y2=maxy)


def _literal_shape(value: values.Geometry | values.Envelope) -> BaseGeometry:
    if isinstance(value, values.Envelope):
        return box(value.x1, min(value.y1, value.y2), value.x2, max(value.y1, value.y2))
    members = value.geometry.get("geometries") or ()
    if any(isinstance(m, dict) and m.get("type") == "GeometryCollection" for m in members):
        raise ValueError("nested geometry collections are not supported")
    return shape(value.geometry)


def checked_shape(value: values.Geometry | values.Envelope, srid: int, swap_axes: bool) -> BaseGeometry:
    """Return a literal as a valid 2D shape in x/y order (swapped first if asked), or raise InvalidInput."""
    try:
        geom = shapely.force_2d(_literal_shape(value))
        if swap_axes:
            geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, ShapelyError) as exc:
        raise bad_geometry(shorten(exc, 120), shorten(exc, 120)) from None
    if geom.is_empty:
        raise bad_geometry("it is empty", "geometri kosong")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise bad_geometry(f"more than {MAX_VERTICES} vertices", f"lebih dari {MAX_VERTICES} titik")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise bad_geometry("a coordinate is not a finite number", "ada koordinat yang bukan angka berhingga")
    if srid in _GEOGRAPHIC_SRIDS and (
        (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any()
    ):
        raise bad_geometry("longitude or latitude out of range", "bujur atau lintang di luar jangkauan")
    if not within_crs(geom.bounds, srid):
        area = describe_crs_bounds(srid)
        raise bad_geometry(f"it lies outside the area of {area}", f"berada di luar wilayah {area}")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise bad_geometry(reason, reason)
    return geom


# --- literal values -----------------------------------------------------------------------------------


def utc(value: date) -> datetime:
    """Return a DATE or TIMESTAMP literal as an aware UTC instant."""
    # Times are stored in UTC (DESIGN.md): a DATE is its first instant in UTC, a naive TIMESTAMP is UTC.
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_number(value: Any) -> bool:
    """Return whether the value is an int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def coerce(value: Any, kind: str) -> Any:
    """Return the value as the Python type bound for `kind`, or None if it does not fit."""
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind in ("number", "integer"):
        if is_number(value) and not math.isfinite(value):
            raise InvalidInput(f"the number {value} is not finite", f"angka {value} tidak berhingga")
        return value if is_number(value) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "datetime":
        return utc(value) if isinstance(value, date) else None
    return None


def describe(value: Any) -> tuple[str, str]:
    """Return how a literal value is named in messages, in English and Indonesian."""
    if isinstance(value, str):
        return f"the string {shorten(value)!r}", f"teks {shorten(value)!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}", f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}", f"angka {value}"
    if isinstance(value, date):
        return "a timestamp", "waktu"
    if isinstance(value, values.Geometry | values.Envelope):
        return "a geometry", "geometri"
    if isinstance(value, values.Interval):
        return "an interval", "interval"
    if isinstance(value, list):
        return "a list", "daftar"
    return "a value", "nilai"
