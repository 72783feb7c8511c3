"""CQL2 filters (OGC API - Features Part 3): parse cql2-text or cql2-json and translate them to bound SQL."""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from importlib.resources import files
from typing import Any, Final, TypeAlias

import numpy as np
import shapely
from geoalchemy2 import Geography
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
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Text,
    and_,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from layers.errors import InvalidInput

MAX_FILTER_LENGTH = 20_000  # characters of cql2-text / serialized cql2-json
MAX_DEPTH = 30  # nesting of the AST; a chain of the same AND/OR counts once, as CQL2's n-ary and/or
MAX_VERTICES = 10_000  # in geometry literals
MAX_DISTANCE_M = 100_000.0  # S_DWITHIN radius
FILTER_SRIDS: Final = frozenset({4326, 3857, 32752, 4755})
KINDS: Final = frozenset({"string", "number", "integer", "boolean", "datetime", "geometry"})
STORAGE_SRID: Final = 4326

SUPPORTED: Final = (
    "=, <>, <, <=, >, >=, LIKE, IN, BETWEEN, IS NULL, AND, OR, NOT, CASEI, S_INTERSECTS, S_WITHIN, "
    "S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_CROSSES, S_OVERLAPS, S_DWITHIN, BBOX, T_AFTER, "
    "T_BEFORE, T_DURING, T_EQUALS, T_INTERSECTS, T_DISJOINT, T_CONTAINS, T_MEETS, T_METBY, T_OVERLAPS, "
    "T_OVERLAPPEDBY, T_STARTS, T_STARTEDBY, T_FINISHES, T_FINISHEDBY"
)

_KIND_NAMES: Final = {
    "string": ("a string", "teks"),
    "number": ("a number", "angka"),
    "integer": ("an integer", "bilangan bulat"),
    "boolean": ("a boolean", "boolean"),
    "datetime": ("a timestamp", "waktu"),
    "geometry": ("a geometry", "geometri"),
}
_BIND_TYPES: Final[dict[str, TypeEngine[Any]]] = {
    "string": Text(),
    "number": Float(),
    "integer": Integer(),
    "boolean": Boolean(),
    "datetime": DateTime(timezone=True),
}
_GEOGRAPHIC_SRIDS: Final = frozenset({4326, 4755})
_GEOMETRY_TYPES: Final = frozenset(
    {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"}
)
_OPS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class TimeIntersects(ast.TemporalPredicate):  # type: ignore[misc]
    """T_INTERSECTS, which pygeofilter 0.4 reads as T_OVERLAPS."""

    op = "INTERSECTS"


_COMPARISONS: Final = {
    "=": ast.Equal,
    "<>": ast.NotEqual,
    "<": ast.LessThan,
    "<=": ast.LessEqual,
    ">": ast.GreaterThan,
    ">=": ast.GreaterEqual,
}
_TEMPORAL_CLASSES: Final = {
    **TEMPORAL_PREDICATES_MAP,
    "t_intersects": TimeIntersects,
    "t_starts": ast.TimeBegins,
    "t_startedby": ast.TimeBegunBy,
    "t_finishes": ast.TimeEnds,
    "t_finishedby": ast.TimeEndedBy,
    "t_disjoint": ast.TimeDisjoint,
}
_NAMES: Final[dict[type, str]] = {
    **{
        cls: key.upper()
        for key, cls in {
            **_COMPARISONS,
            **SPATIAL_PREDICATES_MAP,
            **ARRAY_PREDICATES_MAP,
            **_TEMPORAL_CLASSES,
        }.items()
    },
    ast.Relate: "S_RELATE",
    ast.DistanceBeyond: "S_BEYOND",
    ast.Exists: "EXISTS",
}
_SPATIAL_FUNCTIONS: Final = {
    ast.GeometryIntersects: "ST_Intersects",
    ast.GeometryWithin: "ST_Within",
    ast.GeometryContains: "ST_Contains",
    ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryEquals: "ST_Equals",
    ast.GeometryTouches: "ST_Touches",
    ast.GeometryCrosses: "ST_Crosses",
    ast.GeometryOverlaps: "ST_Overlaps",
}

# Allen's interval relations as CQL2 defines them: (side of a, operator, side of b), all of which must hold.
_S, _E = 0, 1
_TEMPORAL_RULES: Final[dict[type, tuple[tuple[int, str, int], ...]]] = {
    ast.TimeAfter: ((_S, ">", _E),),
    ast.TimeBefore: ((_E, "<", _S),),
    ast.TimeContains: ((_S, "<", _S), (_E, ">", _E)),
    ast.TimeDuring: ((_S, ">", _S), (_E, "<", _E)),
    ast.TimeEquals: ((_S, "=", _S), (_E, "=", _E)),
    ast.TimeEndedBy: ((_S, "<", _S), (_E, "=", _E)),
    ast.TimeEnds: ((_S, ">", _S), (_E, "=", _E)),
    TimeIntersects: ((_S, "<=", _E), (_E, ">=", _S)),
    ast.TimeMeets: ((_E, "=", _S),),
    ast.TimeMetBy: ((_S, "=", _E),),
    ast.TimeOverlappedBy: ((_S, ">", _S), (_S, "<", _E), (_E, ">", _E)),
    ast.TimeOverlaps: ((_S, "<", _S), (_E, ">", _S), (_E, "<", _E)),
    ast.TimeBegunBy: ((_S, "=", _S), (_E, ">", _E)),
    ast.TimeBegins: ((_S, "=", _S), (_E, "<", _E)),
}


@dataclass(frozen=True, slots=True)
class Queryable:
    """A name a client may filter on: a vetted SQL expression and its CQL2 type."""

    expr: ColumnElement[Any]
    kind: str  # "string" | "number" | "integer" | "boolean" | "datetime" | "geometry"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown queryable kind {self.kind!r}")


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
            f"filter-lang {_shorten(lang)!r} is not supported; use cql2-text or cql2-json",
            f"filter-lang {_shorten(lang)!r} tidak didukung; pakai cql2-text atau cql2-json",
        )
    _check_depth(node)
    return node


def to_sql(
    node: ast.Node, queryables: Mapping[str, Queryable], *, filter_srid: int = STORAGE_SRID
) -> ColumnElement[bool]:
    """Translate a filter AST into a SQLAlchemy condition with every value bound, or raise InvalidInput."""
    if filter_srid not in FILTER_SRIDS:
        raise _unsupported_srid(filter_srid)
    _check_depth(node)
    return _Translator(queryables, filter_srid).condition(node)


def filter_expression(
    text: str, lang: str, queryables: Mapping[str, Queryable], *, filter_srid: int = STORAGE_SRID
) -> ColumnElement[bool]:
    """Parse a filter and translate it into a SQLAlchemy condition."""
    return to_sql(parse_filter(text, lang), queryables, filter_srid=filter_srid)


# --- errors -------------------------------------------------------------------------------------------


def _shorten(value: object, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _malformed(lang: str, en: str, id_: str) -> InvalidInput:
    return InvalidInput(f"the {lang} filter is malformed: {en}", f"filter {lang} tidak sah: {id_}")


def _too_deep() -> InvalidInput:
    return InvalidInput(
        f"the filter is nested too deeply: at most {MAX_DEPTH} levels",
        f"filter bersarang terlalu dalam: paling banyak {MAX_DEPTH} tingkat",
    )


def _unsupported_srid(srid: object) -> InvalidInput:
    allowed = ", ".join(f"EPSG:{s}" for s in sorted(FILTER_SRIDS))
    return InvalidInput(
        f"the filter CRS EPSG:{_shorten(srid)} is not supported; use one of {allowed}",
        f"CRS filter EPSG:{_shorten(srid)} tidak didukung; pakai salah satu dari {allowed}",
    )


def _unsupported(node: Any) -> InvalidInput:
    if not isinstance(node, ast.Node):
        en, id_ = _describe(node)
        return InvalidInput(f"expected a condition, not {en}", f"diharapkan kondisi, bukan {id_}")
    if isinstance(node, ast.Arithmetic):
        return InvalidInput(
            "arithmetic (+, -, *, /) is not supported in filters",
            "aritmetika (+, -, *, /) tidak didukung dalam filter",
        )
    name = _NAMES.get(type(node), type(node).__name__)
    return InvalidInput(
        f"{name} is not supported here; supported are: {SUPPORTED}",
        f"{name} tidak didukung di sini; yang didukung: {SUPPORTED}",
        operator=name,
    )


def _describe(value: Any) -> tuple[str, str]:
    if isinstance(value, str):
        return f"the string {_shorten(value)!r}", f"teks {_shorten(value)!r}"
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
        return _TEMPORAL_CLASSES[str(op).lower()](lhs, rhs)

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
        raise _malformed("cql2-text", _shorten(exc, 120), _shorten(exc, 120)) from None


def _syntax_error(exc: UnexpectedInput) -> InvalidInput:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return _malformed(
            "cql2-text",
            "it ends too early; is a closing parenthesis or quote missing?",
            "filter berakhir terlalu cepat; apakah tanda kurung tutup atau tanda kutip hilang?",
        )
    what = (
        repr(exc.char) if isinstance(exc, UnexpectedCharacters) else repr(_shorten(getattr(exc, "token", "")))
    )
    return _malformed(
        "cql2-text",
        f"unexpected {what} at line {exc.line}, column {exc.column}",
        f"{what} tidak terduga pada baris {exc.line}, kolom {exc.column}",
    )


# --- cql2-json ----------------------------------------------------------------------------------------

_JSON_OPS: Final[dict[str, tuple[int, Callable[..., Any]]]] = {
    **{key: (2, cls) for key, cls in _COMPARISONS.items()},
    **{key: (2, cls) for key, cls in SPATIAL_PREDICATES_MAP.items()},
    **{key: (2, cls) for key, cls in _TEMPORAL_CLASSES.items()},
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
                raise _json_error(f"{path}.{key}", _shorten(exc, 120), _shorten(exc, 120)) from None
    if obj.get("type") in _GEOMETRY_TYPES:
        return values.Geometry({k: v for k, v in obj.items() if k in ("type", "coordinates", "geometries")})
    members = _shorten(", ".join(map(str, obj)))
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
            f"{_shorten(op)!r} takes {arity} arguments, not {len(items)}",
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
    "bbox": lambda bbox: _envelope(bbox),
}


# --- depth --------------------------------------------------------------------------------------------


def _check_depth(root: Any) -> None:
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


# --- geometry literals --------------------------------------------------------------------------------


def _envelope(bbox: Any) -> values.Envelope:
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


def _bad_geometry(en: str, id_: str) -> InvalidInput:
    return InvalidInput(
        f"the geometry in the filter is not valid: {en}", f"geometri dalam filter tidak sah: {id_}"
    )


def _checked_shape(value: values.Geometry | values.Envelope, srid: int) -> BaseGeometry:
    try:
        geom = shapely.force_2d(_literal_shape(value))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, ShapelyError) as exc:
        raise _bad_geometry(_shorten(exc, 120), _shorten(exc, 120)) from None
    if geom.is_empty:
        raise _bad_geometry("it is empty", "geometri kosong")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise _bad_geometry(f"more than {MAX_VERTICES} vertices", f"lebih dari {MAX_VERTICES} titik")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise _bad_geometry("a coordinate is not a finite number", "ada koordinat yang bukan angka berhingga")
    if srid in _GEOGRAPHIC_SRIDS and (
        (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any()
    ):
        raise _bad_geometry("longitude or latitude out of range", "bujur atau lintang di luar jangkauan")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise _bad_geometry(reason, reason)
    return geom


def _geometry_sql(value: values.Geometry | values.Envelope, filter_srid: int) -> ColumnElement[Any]:
    srid = value.geometry.get("srid", filter_srid) if isinstance(value, values.Geometry) else filter_srid
    if srid not in FILTER_SRIDS:
        raise _unsupported_srid(srid)
    # EWKB carries the SRID inside the bound bytes; geoalchemy2 would render ST_GeomFromWKB's SRID inline.
    ewkb = shapely.to_wkb(shapely.set_srid(_checked_shape(value, srid), srid), include_srid=True)
    geom = func.ST_GeomFromEWKB(literal(ewkb, LargeBinary()))
    if srid == STORAGE_SRID:
        return geom
    return func.ST_Transform(geom, literal(STORAGE_SRID, Integer()))


# --- values -------------------------------------------------------------------------------------------


def _utc(value: date) -> datetime:
    # Times are stored in UTC (DESIGN.md): a DATE is its first instant in UTC, a naive TIMESTAMP is UTC.
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _coerce(value: Any, kind: str) -> Any:
    """Return the value as the Python type bound for `kind`, or None if it does not fit."""
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind in ("number", "integer"):
        if _is_number(value) and not math.isfinite(value):
            raise InvalidInput(f"the number {value} is not finite", f"angka {value} tidak berhingga")
        return value if _is_number(value) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "datetime":
        return _utc(value) if isinstance(value, date) else None
    return None


class _Open(Enum):
    """An open end ('..') of an interval, ranked against finite instants (0)."""

    START = -1
    END = 1


_Bound: TypeAlias = ColumnElement[Any] | _Open


def _compare_bounds(op: str, x: _Bound, y: _Bound) -> ColumnElement[bool]:
    if isinstance(x, _Open) or isinstance(y, _Open):
        rank_x = x.value if isinstance(x, _Open) else 0
        rank_y = y.value if isinstance(y, _Open) else 0
        return true() if _OPS[op](rank_x, rank_y) else false()
    result: ColumnElement[bool] = _OPS[op](x, y)
    return result


@dataclass(frozen=True, slots=True)
class _Operand:
    """A property (or CASEI of one) with its CQL2 kind."""

    sql: ColumnElement[Any]
    kind: str
    name: str


# --- translation --------------------------------------------------------------------------------------


class _Translator:
    """Turns one filter AST into SQL against a fixed set of queryables."""

    def __init__(self, queryables: Mapping[str, Queryable], filter_srid: int) -> None:
        self._queryables = queryables
        self._srid = filter_srid
        self._handlers: tuple[tuple[Any, Callable[[Any], ColumnElement[bool]]], ...] = (
            (ast.And | ast.Or, self._combination),
            (ast.Not, lambda node: not_(self.condition(node.sub_node))),
            (ast.Include, lambda node: false() if node.not_ else true()),
            (ast.Comparison, self._comparison),
            (ast.Like, self._like),
            (ast.In, self._in),
            (ast.Between, self._between),
            (ast.IsNull, self._is_null),
            (ast.SpatialComparisonPredicate, self._spatial),
            (ast.BBox, self._bbox),
            (ast.DistanceWithin, self._dwithin),
            (ast.TemporalPredicate, self._temporal),
            (ast.Attribute | ast.Function, self._boolean_property),
        )

    def condition(self, node: Any) -> ColumnElement[bool]:
        """Return the SQL condition for a boolean AST node."""
        if isinstance(node, bool):
            return true() if node else false()
        for cls, handler in self._handlers:
            if isinstance(node, cls):
                return handler(node)
        raise _unsupported(node)

    def _combination(self, node: Any) -> ColumnElement[bool]:
        kind, parts, pending = type(node), [], [node]
        while pending:  # flattened without recursion: a long OR chain is one level, not hundreds
            item = pending.pop()
            if type(item) is kind:
                pending += [item.rhs, item.lhs]
            else:
                parts.append(self.condition(item))
        return and_(*parts) if kind is ast.And else or_(*parts)

    def _comparison(self, node: Any) -> ColumnElement[bool]:
        lhs, rhs = self._term(node.lhs), self._term(node.rhs)
        name = _NAMES[type(node)]
        if isinstance(lhs, _Operand):
            return _OPS[node.op.value](lhs.sql, self._value(rhs, lhs))  # type: ignore[no-any-return]
        if isinstance(rhs, _Operand):
            return _OPS[node.op.value](self._value(lhs, rhs), rhs.sql)  # type: ignore[no-any-return]
        raise _needs_property(name)

    def _like(self, node: Any) -> ColumnElement[bool]:
        subject, pattern = self._subject(node.lhs, "LIKE"), self._term(node.pattern)
        if subject.kind != "string" or not isinstance(pattern, str):
            raise InvalidInput(
                "LIKE needs a string property on the left and a pattern string on the right",
                "LIKE perlu properti teks di kiri dan pola teks di kanan",
            )
        bound = literal(pattern, Text())
        matched = subject.sql.ilike(bound) if node.nocase else subject.sql.like(bound)
        return not_(matched) if node.not_ else matched

    def _in(self, node: Any) -> ColumnElement[bool]:
        subject = self._subject(node.lhs, "IN")
        options = [self._value(self._term(option), subject) for option in node.sub_nodes]
        return subject.sql.not_in(options) if node.not_ else subject.sql.in_(options)

    def _between(self, node: Any) -> ColumnElement[bool]:
        subject = self._subject(node.lhs, "BETWEEN")
        low, high = self._value(self._term(node.low), subject), self._value(self._term(node.high), subject)
        between = subject.sql.between(low, high)
        return not_(between) if node.not_ else between

    def _is_null(self, node: Any) -> ColumnElement[bool]:
        subject = self._subject(node.lhs, "IS NULL")
        return subject.sql.is_not(None) if node.not_ else subject.sql.is_(None)

    def _boolean_property(self, node: Any) -> ColumnElement[bool]:
        subject = self._subject(node, "a condition")
        if subject.kind != "boolean":
            raise _mismatch(subject, ("a condition", "kondisi"))
        return subject.sql

    def _spatial(self, node: Any) -> ColumnElement[bool]:
        name = _NAMES[type(node)]
        lhs, rhs = self._geometry(node.lhs, name), self._geometry(node.rhs, name)
        if not (lhs[1] or rhs[1]):
            raise _needs_property(name)
        return getattr(func, _SPATIAL_FUNCTIONS[type(node)])(lhs[0], rhs[0])  # type: ignore[no-any-return]

    def _bbox(self, node: Any) -> ColumnElement[bool]:
        if node.crs is not None:
            raise InvalidInput(
                "BBOX with a CRS argument is not supported; send the CRS as filter-crs",
                "BBOX dengan argumen CRS tidak didukung; kirim CRS sebagai filter-crs",
            )
        try:
            envelope = _envelope([node.minx, node.miny, node.maxx, node.maxy])
        except ValueError as exc:
            raise _bad_geometry(str(exc), str(exc)) from None
        subject, is_property = self._geometry(node.lhs, "BBOX")
        if not is_property:
            raise _needs_property("BBOX")
        return func.ST_Intersects(subject, _geometry_sql(envelope, self._srid))

    def _dwithin(self, node: Any) -> ColumnElement[bool]:
        lhs, rhs = self._geometry(node.lhs, "S_DWITHIN"), self._geometry(node.rhs, "S_DWITHIN")
        if not (lhs[1] or rhs[1]):
            raise _needs_property("S_DWITHIN")
        distance = node.distance
        if not _is_number(distance) or not 0 <= distance <= MAX_DISTANCE_M:
            raise InvalidInput(
                f"the S_DWITHIN distance must be a number of metres from 0 to {MAX_DISTANCE_M:g}",
                f"jarak S_DWITHIN harus angka dalam meter dari 0 sampai {MAX_DISTANCE_M:g}",
            )
        # Metres need geography; assets are stored in EPSG:4326, which geography reads as lon/lat.
        a, b = cast(lhs[0], Geography(srid=STORAGE_SRID)), cast(rhs[0], Geography(srid=STORAGE_SRID))
        return func.ST_DWithin(a, b, literal(float(distance), Float()))

    def _temporal(self, node: Any) -> ColumnElement[bool]:
        name = _NAMES.get(type(node), type(node).__name__)
        if isinstance(node, ast.TimeDisjoint):
            before, after = ast.TimeBefore(node.lhs, node.rhs), ast.TimeAfter(node.lhs, node.rhs)
            return or_(self._temporal(before), self._temporal(after))
        rules = _TEMPORAL_RULES.get(type(node))
        if rules is None:
            raise _unsupported(node)
        (a, a_is_property), (b, b_is_property) = self._period(node.lhs, name), self._period(node.rhs, name)
        if not (a_is_property or b_is_property):
            raise _needs_property(name)
        parts, seen = [], set()
        for side_a, op, side_b in rules:
            key = (id(a[side_a]), op, id(b[side_b]))  # an instant's start and end are one bound
            if key not in seen:
                seen.add(key)
                parts.append(_compare_bounds(op, a[side_a], b[side_b]))
        return and_(*parts)

    # --- operands ---

    def _term(self, node: Any) -> Any:
        """Return an _Operand for a property, or the plain Python value of a literal."""
        if isinstance(node, ast.Attribute):
            return self._property(node.name)
        if isinstance(node, ast.Function):
            return self._function(node)
        if isinstance(node, ast.Node):
            raise _unsupported(node)
        return node

    def _property(self, name: str) -> _Operand:
        queryable = self._queryables.get(name)
        if queryable is None:
            known = ", ".join(sorted(self._queryables))
            raise InvalidInput(
                f"unknown property {_shorten(name)!r}; queryables are: {known}",
                f"properti {_shorten(name)!r} tidak dikenal; yang dapat dipakai: {known}",
                property=_shorten(name),
            )
        return _Operand(queryable.expr, queryable.kind, name)

    def _function(self, node: Any) -> Any:
        name, args = str(node.name).lower(), node.arguments
        if name in ("lower", "casei") and len(args) == 1:
            inner = self._term(args[0])
            if isinstance(inner, str):
                return inner.lower()
            if isinstance(inner, _Operand) and inner.kind == "string":
                return _Operand(func.lower(inner.sql), "string", inner.name)
            raise InvalidInput("CASEI takes a string", "CASEI memerlukan teks")
        if name == "bbox":
            try:
                return _envelope(args)
            except ValueError as exc:
                raise _bad_geometry(str(exc), str(exc)) from None
        if name == "accenti":
            raise InvalidInput(
                "ACCENTI (accent-insensitive comparison) is not supported",
                "ACCENTI (perbandingan tanpa aksen) tidak didukung",
            )
        raise InvalidInput(
            f"unknown function {_shorten(node.name)!r}; supported are CASEI and BBOX",
            f"fungsi {_shorten(node.name)!r} tidak dikenal; yang didukung CASEI dan BBOX",
        )

    def _subject(self, node: Any, what: str) -> _Operand:
        term = self._term(node)
        if not isinstance(term, _Operand):
            raise _needs_property(what)
        return term

    def _value(self, term: Any, against: _Operand) -> ColumnElement[Any]:
        """Return SQL for the other side of a comparison with `against`, checking that the types agree."""
        if against.kind == "geometry":
            raise _geometry_comparison(against.name)
        if isinstance(term, _Operand):
            numeric = {term.kind, against.kind} <= {"number", "integer"}
            if term.kind != against.kind and not numeric:
                raise _mismatch(against, (f"property {term.name!r}", f"properti {term.name!r}"))
            return term.sql
        coerced = _coerce(term, against.kind)
        if coerced is None:
            raise _mismatch(against, _describe(term))
        kind = "number" if isinstance(coerced, float) else against.kind
        return literal(coerced, _BIND_TYPES[kind])

    def _geometry(self, node: Any, what: str) -> tuple[ColumnElement[Any], bool]:
        """Return (SQL geometry in EPSG:4326, whether it is a property)."""
        term = self._term(node)
        if isinstance(term, _Operand):
            if term.kind != "geometry":
                raise _mismatch(term, (f"a geometry in {what}", f"geometri dalam {what}"))
            return term.sql, True
        if isinstance(term, values.Geometry | values.Envelope):
            return _geometry_sql(term, self._srid), False
        en, id_ = _describe(term)
        raise InvalidInput(f"{what} needs a geometry, not {en}", f"{what} memerlukan geometri, bukan {id_}")

    def _period(self, node: Any, what: str) -> tuple[tuple[_Bound, _Bound], bool]:
        """Return (start, end, whether it is a property) of a temporal operand."""
        term = self._term(node)
        if isinstance(term, _Operand):
            if term.kind != "datetime":
                raise _mismatch(term, (f"a time in {what}", f"waktu dalam {what}"))
            return (term.sql, term.sql), True
        if isinstance(term, values.Interval):
            return (_interval_bound(term.start, _Open.START), _interval_bound(term.end, _Open.END)), False
        if isinstance(term, date):
            bound = literal(_utc(term), _BIND_TYPES["datetime"])
            return (bound, bound), False
        en, id_ = _describe(term)
        raise InvalidInput(
            f"{what} needs a timestamp property, TIMESTAMP, DATE or INTERVAL, not {en}",
            f"{what} memerlukan properti waktu, TIMESTAMP, DATE atau INTERVAL, bukan {id_}",
        )


def _interval_bound(value: Any, open_end: _Open) -> _Bound:
    if value is None:
        return open_end
    if not isinstance(value, date):
        raise InvalidInput(
            "interval bounds must be dates, timestamps or '..'",
            "batas interval harus tanggal, waktu atau '..'",
        )
    return literal(_utc(value), _BIND_TYPES["datetime"])


def _needs_property(what: str) -> InvalidInput:
    return InvalidInput(
        f"{what} needs a property on one side; both sides are values",
        f"{what} perlu properti pada salah satu sisi; kedua sisi berupa nilai",
    )


def _geometry_comparison(name: str) -> InvalidInput:
    return InvalidInput(
        f"property {name!r} is a geometry; use a spatial predicate such as S_INTERSECTS",
        f"properti {name!r} adalah geometri; pakai predikat spasial seperti S_INTERSECTS",
        property=name,
    )


def _mismatch(subject: _Operand, other: tuple[str, str]) -> InvalidInput:
    kind_en, kind_id = _KIND_NAMES[subject.kind]
    example = "TIMESTAMP('2024-01-31T00:00:00Z') / DATE('2024-01-31')"
    hint_en, hint_id = (
        (f" (write {example})", f" (tulis {example})") if subject.kind == "datetime" else ("", "")
    )
    return InvalidInput(
        f"property {subject.name!r} is {kind_en} and cannot be compared with {other[0]}{hint_en}",
        f"properti {subject.name!r} bertipe {kind_id} dan tak dapat dibandingkan dengan {other[1]}{hint_id}",
        property=subject.name,
    )
