"""CQL2 text and JSON filters become SQL with every value bound, or a clear InvalidInput; no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import shapely
from geoalchemy2 import Geometry
from pygeofilter import ast, values
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, Table, Text
from sqlalchemy.dialects import postgresql

from layers.errors import InvalidInput
from layers.features.cql2 import (
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_VERTICES,
    Queryable,
    filter_expression,
    parse_filter,
    to_sql,
)

things = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("capacity", Float),
    Column("observed_at", DateTime(timezone=True)),
    Column("geom", Geometry(srid=4326)),
)
QUERYABLES = {
    "name": Queryable(things.c.name, "string"),
    "capacity": Queryable(things.c.capacity, "number"),
    "observed_at": Queryable(things.c.observed_at, "datetime"),
    "geometry": Queryable(things.c.geom, "geometry"),
}
NAME, CAP, AT, GEOM = ({"property": p} for p in ("name", "capacity", "observed_at", "geometry"))
JAN1 = datetime(2024, 1, 1, tzinfo=UTC)
JAN2 = datetime(2024, 1, 2, tzinfo=UTC)
SQUARE_WKT = "POLYGON((128.1 -3.75, 128.25 -3.75, 128.25 -3.65, 128.1 -3.65, 128.1 -3.75))"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[128.1, -3.75], [128.25, -3.75], [128.25, -3.65], [128.1, -3.65], [128.1, -3.75]]],
}
LINE_WKT = "LINESTRING(128.1 -3.7, 128.3 -3.7)"
LINE = {"type": "LineString", "coordinates": [[128.1, -3.7], [128.3, -3.7]]}
POINT_WKT = "POINT(128.18 -3.7)"
POINT = {"type": "Point", "coordinates": [128.18, -3.7]}
BYTES = object()  # marks "a geometry literal, bound as EWKB bytes"


def op(name: str, *args: Any) -> dict[str, Any]:
    """Return a cql2-json operation."""
    return {"op": name, "args": list(args)}


# (id, cql2-text, cql2-json, fragments the SQL must contain, values the bound params must hold)
EQUIVALENT = [
    ("eq", "name = 'TPS Batu Merah'", op("=", NAME, "TPS Batu Merah"), ["things.name ="], ["TPS Batu Merah"]),
    ("ne", "capacity <> 5", op("<>", CAP, 5), ["things.capacity !="], [5]),
    ("lt", "capacity < 2.5", op("<", CAP, 2.5), ["things.capacity <"], [2.5]),
    ("le", "capacity <= 3", op("<=", CAP, 3), ["things.capacity <="], [3]),
    ("gt", "capacity > 3", op(">", CAP, 3), ["things.capacity >"], [3]),
    ("ge", "capacity >= 3", op(">=", CAP, 3), ["things.capacity >="], [3]),
    ("like", "name LIKE 'TPS_%'", op("like", NAME, "TPS_%"), ["LIKE"], ["TPS_%"]),
    (
        "casei",
        "CASEI(name) LIKE CASEI('TPS%')",
        op("like", op("casei", NAME), op("casei", "TPS%")),
        ["lower(things.name) LIKE"],
        ["tps%"],
    ),
    ("in", "name IN ('a', 'b')", op("in", NAME, ["a", "b"]), ["things.name IN ("], ["a", "b"]),
    ("not_in", "name NOT IN ('a', 'b')", op("not", op("in", NAME, ["a", "b"])), ["NOT IN ("], ["a", "b"]),
    ("between", "capacity BETWEEN 1 AND 5", op("between", CAP, 1, 5), ["BETWEEN"], [1, 5]),
    ("is_null", "name IS NULL", op("isNull", NAME), ["things.name IS NULL"], []),
    ("is_not_null", "name IS NOT NULL", op("not", op("isNull", NAME)), ["things.name IS NOT NULL"], []),
    (
        "and_or_not",
        "name = 'a' AND (capacity > 1 OR NOT capacity < 9)",
        op("and", op("=", NAME, "a"), op("or", op(">", CAP, 1), op("not", op("<", CAP, 9)))),
        ["AND", "OR", "things.capacity >="],
        ["a", 1, 9],
    ),
    (
        "s_intersects",
        f"S_INTERSECTS(geometry, {SQUARE_WKT})",
        op("s_intersects", GEOM, SQUARE),
        ["ST_Intersects(things.geom, ST_GeomFromEWKB("],
        [BYTES],
    ),
    (
        "s_within_bbox",
        "S_WITHIN(geometry, BBOX(128.1, -3.75, 128.25, -3.65))",
        op("s_within", GEOM, {"bbox": [128.1, -3.75, 128.25, -3.65]}),
        ["ST_Within"],
        [BYTES],
    ),
    (
        "bbox",
        "BBOX(geometry, 128.1, -3.75, 128.25, -3.65)",
        op("s_intersects", GEOM, {"bbox": [128.1, -3.75, 128.25, -3.65]}),
        ["ST_Intersects"],
        [BYTES],
    ),
    (
        "s_contains",
        f"S_CONTAINS(geometry, {POINT_WKT})",
        op("s_contains", GEOM, POINT),
        ["ST_Contains"],
        [BYTES],
    ),
    (
        "s_disjoint",
        f"S_DISJOINT(geometry, {SQUARE_WKT})",
        op("s_disjoint", GEOM, SQUARE),
        ["ST_Disjoint"],
        [BYTES],
    ),
    ("s_equals", f"S_EQUALS(geometry, {POINT_WKT})", op("s_equals", GEOM, POINT), ["ST_Equals"], [BYTES]),
    ("s_touches", f"S_TOUCHES(geometry, {LINE_WKT})", op("s_touches", GEOM, LINE), ["ST_Touches"], [BYTES]),
    ("s_crosses", f"S_CROSSES(geometry, {LINE_WKT})", op("s_crosses", GEOM, LINE), ["ST_Crosses"], [BYTES]),
    (
        "s_overlaps",
        f"S_OVERLAPS(geometry, {SQUARE_WKT})",
        op("s_overlaps", GEOM, SQUARE),
        ["ST_Overlaps"],
        [BYTES],
    ),
    (
        "s_dwithin",
        f"S_DWITHIN(geometry, {POINT_WKT}, 500)",
        op("s_dwithin", GEOM, POINT, 500),
        ["ST_DWithin(CAST(things.geom AS geography", "AS geography"],
        [BYTES, 500.0],
    ),
    (
        "t_after",
        "T_AFTER(observed_at, TIMESTAMP('2024-01-01T00:00:00Z'))",
        op("t_after", AT, {"timestamp": "2024-01-01T00:00:00Z"}),
        ["things.observed_at >"],
        [JAN1],
    ),
    (
        "t_after_infix",
        "observed_at T_AFTER TIMESTAMP('2024-01-01T00:00:00Z')",
        op("t_after", AT, {"timestamp": "2024-01-01T00:00:00Z"}),
        ["things.observed_at >"],
        [JAN1],
    ),
    (
        "t_before",
        "T_BEFORE(observed_at, DATE('2024-01-01'))",
        op("t_before", AT, {"date": "2024-01-01"}),
        ["things.observed_at <"],
        [JAN1],
    ),
    (
        "t_during_open",
        "T_DURING(observed_at, INTERVAL('2024-01-01T00:00:00Z', '..'))",
        op("t_during", AT, {"interval": ["2024-01-01T00:00:00Z", ".."]}),
        ["things.observed_at >"],
        [JAN1],
    ),
    (
        "t_during",
        "T_DURING(observed_at, INTERVAL('2024-01-01', '2024-01-02'))",
        op("t_during", AT, {"interval": ["2024-01-01", "2024-01-02"]}),
        ["things.observed_at >", "AND things.observed_at <"],
        [JAN1, JAN2],
    ),
    (
        "t_equals",
        "T_EQUALS(observed_at, TIMESTAMP('2024-01-01T00:00:00Z'))",
        op("t_equals", AT, {"timestamp": "2024-01-01T00:00:00Z"}),
        ["things.observed_at ="],
        [JAN1],
    ),
    (
        "t_intersects",
        "T_INTERSECTS(observed_at, INTERVAL('..', '2024-01-02T00:00:00Z'))",
        op("t_intersects", AT, {"interval": ["..", "2024-01-02T00:00:00Z"]}),
        ["things.observed_at <="],
        [JAN2],
    ),
    (
        "timestamp_compare",
        "observed_at >= TIMESTAMP('2024-01-01T09:00:00+09:00')",
        op(">=", AT, {"timestamp": "2024-01-01T09:00:00+09:00"}),
        ["things.observed_at >="],
        [JAN1],
    ),
]


def compiled(text: str, lang: str, **kw: Any) -> tuple[str, dict[str, Any]]:
    """Return the PostgreSQL SQL and bound params of a filter."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    result = filter_expression(text, lang, QUERYABLES, **kw).compile(dialect=dialect)
    return str(result), dict(result.params)


def as_lang(lang: str, text: str, document: Any) -> str:
    """Return the filter written in `lang`."""
    return text if lang == "cql2-text" else json.dumps(document)


@pytest.mark.parametrize("lang", ["cql2-text", "cql2-json"])
@pytest.mark.parametrize(
    ("text", "document", "fragments", "bound"), [c[1:] for c in EQUIVALENT], ids=[c[0] for c in EQUIVALENT]
)
def test_filter_compiles_to_sql_with_values_bound(
    lang: str, text: str, document: Any, fragments: list[str], bound: list[Any]
) -> None:
    sql, params = compiled(as_lang(lang, text, document), lang)
    for fragment in fragments:
        assert fragment in sql
    for value in bound:
        if value is BYTES:
            assert any(isinstance(v, bytes) for v in params.values())
        else:
            assert value in params.values()
    assert "'" not in sql and "128.1" not in sql  # no quoted literal, no coordinate: values are only params


@pytest.mark.parametrize(("text", "document"), [c[1:3] for c in EQUIVALENT], ids=[c[0] for c in EQUIVALENT])
def test_text_and_json_forms_compile_alike(text: str, document: Any) -> None:
    assert compiled(text, "cql2-text") == compiled(json.dumps(document), "cql2-json")


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("cql2-text", "name = 'x''; DROP TABLE assets; --'"),
        ("cql2-text", "name LIKE 'x''; DROP TABLE assets; --'"),
        ("cql2-text", "name IN ('a', 'x''; DROP TABLE assets; --')"),
        ("cql2-json", json.dumps(op("=", NAME, "x'; DROP TABLE assets; --"))),
        ("cql2-json", json.dumps(op("in", NAME, ["x'; DROP TABLE assets; --"]))),
    ],
)
def test_injection_string_stays_a_bound_parameter(lang: str, text: str) -> None:
    sql, params = compiled(text, lang)
    assert "x'; DROP TABLE assets; --" in params.values()
    assert "DROP" not in sql and "--" not in sql


def test_unknown_property_is_named_with_the_queryables() -> None:
    with pytest.raises(InvalidInput) as caught:
        compiled("colour = 'red'", "cql2-text")
    assert (
        caught.value.message_en
        == "unknown property 'colour'; queryables are: capacity, geometry, name, observed_at"
    )
    assert "colour" in caught.value.message_id


@pytest.mark.parametrize("srid", [3857, 32752, 4755])
def test_literal_in_another_crs_is_built_there_and_transformed(srid: int) -> None:
    x, y = {3857: (14_269_000.0, -412_500.0), 32752: (409_000.0, 9_590_000.0), 4755: (128.18, -3.7)}[srid]
    sql, params = compiled(f"S_INTERSECTS(geometry, POINT({x} {y}))", "cql2-text", filter_srid=srid)
    assert "ST_Transform(ST_GeomFromEWKB(" in sql
    (ewkb,) = (v for v in params.values() if isinstance(v, bytes))
    assert shapely.get_srid(shapely.from_wkb(ewkb)) == srid
    assert 4326 in params.values() and str(srid) not in sql


def test_ewkt_srid_in_text_overrides_the_filter_crs() -> None:
    sql, params = compiled("S_INTERSECTS(geometry, SRID=32752;POINT(409000 9590000))", "cql2-text")
    (ewkb,) = (v for v in params.values() if isinstance(v, bytes))
    assert shapely.get_srid(shapely.from_wkb(ewkb)) == 32752 and "ST_Transform" in sql


def test_and_binds_tighter_than_or() -> None:
    node = parse_filter("name = 'a' OR name = 'b' AND capacity > 1", "cql2-text")
    assert isinstance(node, ast.Or) and isinstance(node.rhs, ast.And)


def test_long_flat_or_chain_counts_as_one_level() -> None:
    text = " OR ".join(f"name = 'n{i}'" for i in range(300))
    sql, params = compiled(text, "cql2-text")
    assert sql.count(" OR ") == 299 and len(params) == 300


def test_open_interval_after_nothing_is_false() -> None:
    assert compiled("T_AFTER(observed_at, INTERVAL('2024-01-01', '..'))", "cql2-text") == ("false", {})


def test_json_true_selects_everything() -> None:
    assert compiled("true", "cql2-json") == ("true", {})


def test_too_many_vertices_are_refused() -> None:
    line = values.Geometry(
        {"type": "LineString", "coordinates": [[128 + i * 1e-5, -3.7] for i in range(MAX_VERTICES + 1)]}
    )
    with pytest.raises(InvalidInput, match=f"more than {MAX_VERTICES} vertices"):
        to_sql(ast.GeometryIntersects(ast.Attribute("geometry"), line), QUERYABLES)


def test_queryable_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown queryable kind 'colour'"):
        to_sql(ast.Equal(ast.Attribute("name"), "a"), {"name": Queryable(things.c.name, "colour")})


def bound_geometry(params: dict[str, Any]) -> shapely.Geometry:
    """Return the one geometry bound as EWKB among the params."""
    (ewkb,) = (v for v in params.values() if isinstance(v, bytes))
    return shapely.from_wkb(ewkb)


SQUARE_LAT_LON_WKT = "POLYGON((-3.75 128.1, -3.75 128.25, -3.65 128.25, -3.65 128.1, -3.75 128.1))"
SQUARE_LAT_LON = {"type": "Polygon", "coordinates": [[[y, x] for x, y in SQUARE["coordinates"][0]]]}
LAT_LON = [
    (
        "bbox_text",
        "cql2-text",
        "BBOX(geometry, 128.1, -3.75, 128.25, -3.65)",
        "BBOX(geometry, -3.75, 128.1, -3.65, 128.25)",
    ),
    (
        "bbox_json",
        "cql2-json",
        json.dumps(op("s_intersects", GEOM, {"bbox": [128.1, -3.75, 128.25, -3.65]})),
        json.dumps(op("s_intersects", GEOM, {"bbox": [-3.75, 128.1, -3.65, 128.25]})),
    ),
    (
        "polygon_text",
        "cql2-text",
        f"S_INTERSECTS(geometry, {SQUARE_WKT})",
        f"S_INTERSECTS(geometry, {SQUARE_LAT_LON_WKT})",
    ),
    (
        "polygon_json",
        "cql2-json",
        json.dumps(op("s_intersects", GEOM, SQUARE)),
        json.dumps(op("s_intersects", GEOM, SQUARE_LAT_LON)),
    ),
]


@pytest.mark.parametrize("srid", [4326, 4755])
@pytest.mark.parametrize(
    ("lang", "lon_lat", "lat_lon"), [c[1:] for c in LAT_LON], ids=[c[0] for c in LAT_LON]
)
def test_lat_lon_literal_with_swap_axes_binds_the_lon_lat_geometry(
    srid: int, lang: str, lon_lat: str, lat_lon: str
) -> None:
    expected_sql, expected_params = compiled(lon_lat, lang, filter_srid=srid)
    sql, params = compiled(lat_lon, lang, filter_srid=srid, swap_axes=True)
    assert sql == expected_sql
    geom, expected = bound_geometry(params), bound_geometry(expected_params)
    assert shapely.get_srid(geom) == shapely.get_srid(expected) == srid
    assert geom.equals(expected)


def test_lat_lon_literal_without_swap_axes_is_out_of_range() -> None:
    with pytest.raises(InvalidInput, match="longitude or latitude out of range"):
        compiled(LAT_LON[0][3], "cql2-text")


def test_ewkt_with_its_own_srid_is_not_swapped() -> None:
    text = "S_INTERSECTS(geometry, SRID=32752;POINT(409000 9590000))"
    _, params = compiled(text, "cql2-text", swap_axes=True)
    assert bound_geometry(params).equals(shapely.Point(409_000, 9_590_000))


NESTED_NOTS = "NOT (" * 200 + "name = 'a'" + ")" * 200
NESTED_ANDS = "(name = 'a' AND " * 200 + "name = 'a'" + ")" * 200


def nested_json(depth: int) -> str:
    """Return `depth` nested cql2-json and operations."""
    node: Any = op("=", NAME, "a")
    for _ in range(depth):
        node = op("and", op("=", NAME, "a"), node)
    return json.dumps(node)


MALFORMED = [
    ("cql2-text", "(name = 'a'", "ends too early; is a closing parenthesis or quote missing?"),
    ("cql2-text", "name = 'a')", "unexpected ')' at line 1, column 11"),
    ("cql2-text", "name = 'a", 'unexpected "\'" at line 1, column 8'),
    ("cql2-text", "name === 'a'", "unexpected '=' at line 1, column 7"),
    ("cql2-text", "frobnicate(name) = 'a'", "unknown function 'frobnicate'"),
    ("cql2-json", json.dumps(op("frobnicate", NAME)), "unknown function 'frobnicate'"),
    ("cql2-text", "S_INTERSECTS(geometry, POINT(128.1))", "unexpected ')'"),
    (
        "cql2-text",
        "S_INTERSECTS(geometry, POLYGON((128 -3, 129 -3, 128 -3)))",
        "geometry in the filter is not valid",
    ),
    ("cql2-text", "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "Self-intersection"),
    ("cql2-text", "S_INTERSECTS(geometry, POINT(1e999 -3.7))", "not a finite number"),
    (
        "cql2-json",
        json.dumps(op("s_intersects", GEOM, POINT)).replace("128.18", "NaN"),
        "NaN is not a number",
    ),
    (
        "cql2-json",
        json.dumps(op("s_intersects", GEOM, POINT)).replace("128.18", "1e999"),
        "not a finite number",
    ),
    ("cql2-text", "S_INTERSECTS(geometry, POINT(228.1 -3.7))", "longitude or latitude out of range"),
    (
        "cql2-text",
        "name = '" + "x" * MAX_FILTER_LENGTH + "'",
        f"too long: {MAX_FILTER_LENGTH + 9} characters",
    ),
    ("cql2-text", NESTED_NOTS, f"nested too deeply: at most {MAX_DEPTH} levels"),
    ("cql2-text", NESTED_ANDS, "nested too deeply"),
    ("cql2-json", nested_json(200), "nested too deeply"),
    ("cql2-json", "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("cql2-json", '{"op": "=", "args": [', "not valid JSON"),
    ("cql2-json", json.dumps(op("between", CAP, [1, 5])), "'between' takes 3 arguments, not 2 (at filter)"),
    (
        "cql2-json",
        json.dumps(op("=", NAME, None)),
        "null is not a CQL2 value; use isNull (at filter.args[1])",
    ),
    ("cql2-json", json.dumps(op("=", NAME, {"colour": 1})), "unknown object with members colour"),
    ("cql2-text", "   ", "the filter is empty"),
    ("cql2-text", "capacity + 1 > 2", "arithmetic (+, -, *, /) is not supported"),
    ("cql2-text", "ACCENTI(name) = 'a'", "ACCENTI (accent-insensitive comparison) is not supported"),
    (
        "cql2-text",
        "capacity = 'full'",
        "property 'capacity' is a number and cannot be compared with the string 'full'",
    ),
    ("cql2-text", "name > 3", "property 'name' is a string and cannot be compared with the number 3"),
    ("cql2-text", "observed_at > '2024-01-01'", "write TIMESTAMP("),
    ("cql2-text", "geometry = 'a'", "use a spatial predicate such as S_INTERSECTS"),
    ("cql2-text", f"S_INTERSECTS(name, {POINT_WKT})", "property 'name' is a string"),
    ("cql2-text", "T_AFTER(capacity, TIMESTAMP('2024-01-01T00:00:00Z'))", "property 'capacity' is a number"),
    ("cql2-text", "'a' = 'a'", "needs a property on one side"),
    ("cql2-text", f"S_DWITHIN(geometry, {POINT_WKT}, -5)", "distance must be a number of metres"),
    ("cql2-text", f"S_DWITHIN(geometry, {POINT_WKT}, 1e9)", "distance must be a number of metres"),
    ("cql2-text", "T_AFTER(observed_at, TIMESTAMP('2024-13-01T00:00:00Z'))", "month must be in 1..12"),
    ("cql2-json", json.dumps(op("a_contains", NAME, ["a"])), "A_CONTAINS is not supported"),
    ("cql2-json", json.dumps(op("in", NAME, "a")), "second argument of 'in' must be a non-empty list"),
    ("cql2-json", '"name"', "expected a condition, not the string 'name'"),
]


@pytest.mark.parametrize(("lang", "text", "message"), MALFORMED, ids=[f"{i}" for i in range(len(MALFORMED))])
def test_malformed_filter_raises_invalid_input_saying_what_is_wrong(
    lang: str, text: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        compiled(text, lang)
    assert message in caught.value.message_en
    assert caught.value.message_id and caught.value.message_id != caught.value.message_en


@pytest.mark.parametrize(
    ("lang", "srid", "message"),
    [("yaml", 4326, "filter-lang 'yaml'"), ("cql2-text", 2154, "EPSG:2154 is not supported")],
)
def test_unsupported_language_or_crs_is_refused(lang: str, srid: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        compiled("name = 'a'", lang, filter_srid=srid)
