"""CQL2 filters (OGC API - Features Part 3): translate a parsed cql2-text or cql2-json filter to bound SQL."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Final, TypeAlias

import shapely
from geoalchemy2 import Geography
from pygeofilter import ast, values
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
from layers.features.cql2_parse import (
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_VERTICES,
    OPERATOR_NAMES,
    TimeIntersects,
    bad_geometry,
    check_depth,
    checked_shape,
    coerce,
    describe,
    envelope,
    is_number,
    parse_filter,
    shorten,
    utc,
)
from layers.features.queryables import Queryable

__all__ = [
    "FILTER_SRIDS",
    "KINDS",
    "MAX_DEPTH",
    "MAX_DISTANCE_M",
    "MAX_FILTER_LENGTH",
    "MAX_VERTICES",
    "STORAGE_SRID",
    "SUPPORTED",
    "Queryable",
    "filter_expression",
    "parse_filter",
    "to_sql",
]

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
_OPS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
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


def to_sql(
    node: ast.Node,
    queryables: Mapping[str, Queryable],
    *,
    filter_srid: int = STORAGE_SRID,
    swap_axes: bool = False,
) -> ColumnElement[bool]:
    """Translate a filter AST into a SQLAlchemy condition with every value bound, or raise InvalidInput."""
    if filter_srid not in FILTER_SRIDS:
        raise _unsupported_srid(filter_srid)
    check_depth(node)
    return _Translator(queryables, filter_srid, swap_axes).condition(node)


def filter_expression(
    text: str,
    lang: str,
    queryables: Mapping[str, Queryable],
    *,
    filter_srid: int = STORAGE_SRID,
    swap_axes: bool = False,
) -> ColumnElement[bool]:
    """Parse a filter and translate it into a SQLAlchemy condition."""
    return to_sql(parse_filter(text, lang), queryables, filter_srid=filter_srid, swap_axes=swap_axes)


# --- errors -------------------------------------------------------------------------------------------


def _unsupported_srid(srid: object) -> InvalidInput:
    allowed = ", ".join(f"EPSG:{s}" for s in sorted(FILTER_SRIDS))
    return InvalidInput(
        f"the filter CRS EPSG:{shorten(srid)} is not supported; use one of {allowed}",
        f"CRS filter EPSG:{shorten(srid)} tidak didukung; pakai salah satu dari {allowed}",
    )


def _unsupported(node: Any) -> InvalidInput:
    if not isinstance(node, ast.Node):
        en, id_ = describe(node)
        return InvalidInput(f"expected a condition, not {en}", f"diharapkan kondisi, bukan {id_}")
    if isinstance(node, ast.Arithmetic):
        return InvalidInput(
            "arithmetic (+, -, *, /) is not supported in filters",
            "aritmetika (+, -, *, /) tidak didukung dalam filter",
        )
    name = OPERATOR_NAMES.get(type(node), type(node).__name__)
    return InvalidInput(
        f"{name} is not supported here; supported are: {SUPPORTED}",
        f"{name} tidak didukung di sini; yang didukung: {SUPPORTED}",
        operator=name,
    )


# --- geometry literals --------------------------------------------------------------------------------


def _geometry_sql(
    value: values.Geometry | values.Envelope, filter_srid: int, swap_axes: bool
) -> ColumnElement[Any]:
    own_srid = value.geometry.get("srid") if isinstance(value, values.Geometry) else None
    srid = filter_srid if own_srid is None else own_srid
    if srid not in FILTER_SRIDS:
        raise _unsupported_srid(srid)
    # swap_axes: the filter CRS is lat/lon (EPSG:4326/4755 URIs). EWKT's own SRID is PostGIS's, always x/y.
    shape = checked_shape(value, srid, swap_axes and own_srid is None)
    # EWKB carries the SRID inside the bound bytes; geoalchemy2 would render ST_GeomFromWKB's SRID inline.
    ewkb = shapely.to_wkb(shapely.set_srid(shape, srid), include_srid=True)
    geom = func.ST_GeomFromEWKB(literal(ewkb, LargeBinary()))
    if srid == STORAGE_SRID:
        return geom
    return func.ST_Transform(geom, literal(STORAGE_SRID, Integer()))


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

    def __init__(self, queryables: Mapping[str, Queryable], filter_srid: int, swap_axes: bool) -> None:
        for queryable in queryables.values():
            if queryable.kind not in KINDS:
                raise ValueError(f"unknown queryable kind {queryable.kind!r}")
        self._queryables = queryables
        self._srid = filter_srid
        self._swap_axes = swap_axes
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
        name = OPERATOR_NAMES[type(node)]
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
        name = OPERATOR_NAMES[type(node)]
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
            bounds = envelope([node.minx, node.miny, node.maxx, node.maxy])
        except ValueError as exc:
            raise bad_geometry(str(exc), str(exc)) from None
        subject, is_property = self._geometry(node.lhs, "BBOX")
        if not is_property:
            raise _needs_property("BBOX")
        return func.ST_Intersects(subject, _geometry_sql(bounds, self._srid, self._swap_axes))

    def _dwithin(self, node: Any) -> ColumnElement[bool]:
        lhs, rhs = self._geometry(node.lhs, "S_DWITHIN"), self._geometry(node.rhs, "S_DWITHIN")
        if not (lhs[1] or rhs[1]):
            raise _needs_property("S_DWITHIN")
        distance = node.distance
        if not is_number(distance) or not 0 <= distance <= MAX_DISTANCE_M:
            raise InvalidInput(
                f"the S_DWITHIN distance must be a number of metres from 0 to {MAX_DISTANCE_M:g}",
                f"jarak S_DWITHIN harus angka dalam meter dari 0 sampai {MAX_DISTANCE_M:g}",
            )
        # Metres need geography; assets are stored in EPSG:4326, which geography reads as lon/lat.
        a, b = cast(lhs[0], Geography(srid=STORAGE_SRID)), cast(rhs[0], Geography(srid=STORAGE_SRID))
        return func.ST_DWithin(a, b, literal(float(distance), Float()))

    def _temporal(self, node: Any) -> ColumnElement[bool]:
        name = OPERATOR_NAMES.get(type(node), type(node).__name__)
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
                f"unknown property {shorten(name)!r}; queryables are: {known}",
                f"properti {shorten(name)!r} tidak dikenal; yang dapat dipakai: {known}",
                property=shorten(name),
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
                return envelope(args)
            except ValueError as exc:
                raise bad_geometry(str(exc), str(exc)) from None
        if name == "accenti":
            raise InvalidInput(
                "ACCENTI (accent-insensitive comparison) is not supported",
                "ACCENTI (perbandingan tanpa aksen) tidak didukung",
            )
        raise InvalidInput(
            f"unknown function {shorten(node.name)!r}; supported are CASEI and BBOX",
            f"fungsi {shorten(node.name)!r} tidak dikenal; yang didukung CASEI dan BBOX",
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
        coerced = coerce(term, against.kind)
        if coerced is None:
            raise _mismatch(against, describe(term))
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
            return _geometry_sql(term, self._srid, self._swap_axes), False
        en, id_ = describe(term)
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
            bound = literal(utc(term), _BIND_TYPES["datetime"])
            return (bound, bound), False
        en, id_ = describe(term)
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
    return literal(utc(value), _BIND_TYPES["datetime"])


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
