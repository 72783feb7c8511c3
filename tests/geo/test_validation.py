import json
import math
import time
from typing import Any

import pytest
import shapely
from shapely.geometry import mapping

from geo.kinds import GeometryKind
from geo.validation import MAX_VERTICES, GeometryError, check_geometry, parse_geometry

SQUARE = [[128.0, -4.0], [128.2, -4.0], [128.2, -3.8], [128.0, -3.8], [128.0, -4.0]]
HOLE = [[128.05, -3.95], [128.05, -3.85], [128.15, -3.85], [128.15, -3.95], [128.05, -3.95]]
BOW_TIE = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]

GOOD = {
    "Point": {"type": "Point", "coordinates": [128.18, -3.69]},
    "MultiPoint": {"type": "MultiPoint", "coordinates": [[128.18, -3.69], [128.2, -3.7]]},
    "LineString": {"type": "LineString", "coordinates": [[128.1, -3.7], [128.2, -3.6], [128.3, -3.65]]},
    "MultiLineString": {
        "type": "MultiLineString",
        "coordinates": [[[128.1, -3.7], [128.2, -3.6]], [[0, 0], [1, 1]]],
    },
    "Polygon": {"type": "Polygon", "coordinates": [SQUARE, HOLE]},
    "MultiPolygon": {
        "type": "MultiPolygon",
        "coordinates": [[SQUARE, HOLE], [[[0, 0], [1, 0], [1, 1], [0, 0]]]],
    },
}
KIND_OF = {
    "Point": GeometryKind.POINT,
    "MultiPoint": GeometryKind.POINT,
    "LineString": GeometryKind.LINE,
    "MultiLineString": GeometryKind.LINE,
    "Polygon": GeometryKind.POLYGON,
    "MultiPolygon": GeometryKind.POLYGON,
}


def error_of(obj: object, **kwargs: Any) -> GeometryError:
    with pytest.raises(GeometryError) as caught:
        parse_geometry(obj, **kwargs)
    return caught.value


def point(*position: object) -> dict[str, Any]:
    return {"type": "Point", "coordinates": list(position)}


def polygon(*rings: object) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def line(*positions: object) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": list(positions)}


def nested(depth: int) -> list[Any]:
    value: list[Any] = [0.0, 0.0]
    for _ in range(depth):
        value = [value]
    return value


BAD = [
    pytest.param([128.1, -3.7], "not_an_object", id="list"),
    pytest.param('{"type": "Point"}', "not_an_object", id="json-text"),
    pytest.param(None, "not_an_object", id="none"),
    pytest.param({"type": "Circle", "coordinates": [0, 0]}, "unknown_type", id="unknown-type"),
    pytest.param({"coordinates": [0, 0]}, "unknown_type", id="missing-type"),
    pytest.param({"type": ["Point"], "coordinates": [0, 0]}, "unknown_type", id="unhashable-type"),
    pytest.param({"type": "Feature", "geometry": point(0, 0)}, "unknown_type", id="feature"),
    pytest.param({"type": "GeometryCollection", "geometries": [point(0, 0)]}, "geometry_collection", id="gc"),
    pytest.param({"type": "Point"}, "bad_coordinates", id="missing-coordinates"),
    pytest.param({"type": "Point", "coordinates": "128.1,-3.7"}, "bad_coordinates", id="string"),
    pytest.param(point(128.1), "bad_coordinates", id="one-number"),
    pytest.param(point(1, 2, 3, 4), "bad_coordinates", id="four-numbers"),
    pytest.param(point("128.1", -3.7), "bad_coordinates", id="numeric-string"),
    pytest.param(point(True, 0), "bad_coordinates", id="bool"),
    pytest.param(point([1, 2]), "bad_coordinates", id="point-too-deep"),
    pytest.param(line(1, 2), "bad_coordinates", id="line-too-shallow"),
    pytest.param(line([0, 0], [1, {}]), "bad_coordinates", id="object-in-position"),
    pytest.param(polygon([0, 0], [1, 0], [1, 1], [0, 0]), "bad_coordinates", id="polygon-too-shallow"),
    pytest.param(polygon([[[0, 0]], [[1, 0]], [[1, 1]], [[0, 0]]]), "bad_coordinates", id="polygon-too-deep"),
    pytest.param({"type": "MultiPolygon", "coordinates": ["x"]}, "bad_coordinates", id="string-part"),
    pytest.param(line(nested(10_000), [0, 0]), "bad_coordinates", id="hostile-nesting"),
    pytest.param(point(math.nan, 0), "not_finite", id="nan"),
    pytest.param(point(0, math.inf), "not_finite", id="infinity"),
    pytest.param(point(None, 0), "not_finite", id="null"),
    pytest.param(point(0, 0, math.nan), "not_finite", id="nan-z"),
    pytest.param(line([0, 0], [-math.inf, 0]), "not_finite", id="line-infinity"),
    pytest.param(point(180.5, 0), "out_of_range", id="lon-high"),
    pytest.param(point(-180.0001, 0), "out_of_range", id="lon-low"),
    pytest.param(point(0, 90.5), "out_of_range", id="lat-high"),
    pytest.param(point(0, -91), "out_of_range", id="lat-low"),
    pytest.param(point(-3.69, 128.18), "out_of_range", id="lat-lon-swapped"),
    pytest.param(point(409_000, 9_591_000), "out_of_range", id="utm-metres"),
    pytest.param(point(10**400, 0), "out_of_range", id="huge-integer"),
    pytest.param(line([0, 0]), "too_few_points", id="one-position-line"),
    pytest.param(line([1, 1], [1, 1], [1, 1]), "too_few_points", id="line-one-distinct"),
    pytest.param({"type": "MultiLineString", "coordinates": [[]]}, "too_few_points", id="empty-part-line"),
    pytest.param(polygon([[0, 0], [1, 0], [0, 0]]), "too_few_points", id="three-position-ring"),
    pytest.param(polygon([[0, 0], [0, 0], [0, 0], [0, 0]]), "too_few_points", id="collapsed-ring"),
    pytest.param(polygon([[0, 0], [1, 0], [1, 1], [0, 1]]), "ring_not_closed", id="open-shell"),
    pytest.param(polygon(SQUARE, HOLE[:-1] + [HOLE[1]]), "ring_not_closed", id="open-hole"),
    pytest.param(polygon(BOW_TIE), "invalid", id="bow-tie"),
    pytest.param(polygon([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], HOLE), "invalid", id="hole-outside"),
    pytest.param({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]}, "invalid", id="overlap"),
    pytest.param(point(), "empty", id="empty-point"),
    pytest.param(line(), "empty", id="empty-line"),
    pytest.param({"type": "MultiPoint", "coordinates": []}, "empty", id="empty-multipoint"),
    pytest.param({"type": "MultiPolygon", "coordinates": [[]]}, "empty", id="empty-part-polygon"),
]


@pytest.mark.parametrize(("obj", "code"), BAD)
def test_parse_rejects_bad_input_with_code(obj: object, code: str) -> None:
    assert error_of(obj).code == code


@pytest.mark.parametrize(("obj", "code"), BAD)
def test_every_rejection_has_english_and_indonesian_reason(obj: object, code: str) -> None:
    error = error_of(obj)
    assert error.reason and error.reason_id
    assert error.reason != error.reason_id
    assert str(error) == error.reason


@pytest.mark.parametrize("geojson_type", GOOD)
def test_good_geometry_round_trips(geojson_type: str) -> None:
    obj = GOOD[geojson_type]
    geom = parse_geometry(obj, expected=KIND_OF[geojson_type])
    assert geom.geom_type == geojson_type
    assert json.loads(json.dumps(mapping(geom))) == obj


@pytest.mark.parametrize("position", [[180, 90], [-180, -90], [0, 0]])
def test_range_limits_are_inclusive(position: list[int]) -> None:
    assert parse_geometry(point(*position)).coords[0] == tuple(position)


def test_bow_tie_reason_says_self_intersection() -> None:
    error = error_of(polygon(BOW_TIE))
    assert "Self-intersection" in error.reason
    assert "Self-intersection" in error.reason_id


def test_nan_from_json_text_is_rejected() -> None:
    obj = json.loads('{"type": "Point", "coordinates": [NaN, -3.7]}')
    assert error_of(obj).code == "not_finite"


def test_out_of_range_names_the_value_and_axis() -> None:
    error = error_of(line([128.1, -3.7], [128.2, 95.25]))
    assert "latitude 95.25" in error.reason
    assert "coordinates[1]" in error.reason
    assert "lintang 95.25" in error.reason_id


def test_unknown_type_names_the_type() -> None:
    error = error_of({"type": "Circle", "coordinates": [0, 0]})
    assert "'Circle'" in error.reason
    assert "'Circle'" in error.reason_id


def test_200001_vertex_line_is_rejected_quickly() -> None:
    obj = line(*([128.0 + i * 1e-6, -3.7] for i in range(200_001)))
    started = time.perf_counter()
    assert error_of(obj).code == "too_many_vertices"
    assert time.perf_counter() - started < 0.05


def test_vertex_limit_is_checked_before_positions_are_read() -> None:
    parts = [[["not", "a position"]] * 4] * (MAX_VERTICES // 4 + 1)
    assert error_of({"type": "MultiPolygon", "coordinates": [parts]}).code == "too_many_vertices"


def test_max_vertices_is_configurable() -> None:
    assert error_of(line([0, 0], [1, 1], [2, 2]), max_vertices=2).code == "too_many_vertices"


def test_polygon_is_accepted_for_polygon_layer() -> None:
    geom = parse_geometry(polygon(SQUARE), expected=GeometryKind.POLYGON)
    assert geom.equals(shapely.Polygon(SQUARE))


def test_polygon_is_rejected_for_point_layer() -> None:
    error = error_of(polygon(SQUARE), expected=GeometryKind.POINT)
    assert error.code == "wrong_type"
    assert error.reason == "layer expects point geometry, got Polygon"
    assert error.reason_id == "layer ini memerlukan geometri titik, bukan Polygon"


@pytest.mark.parametrize("geojson_type", GOOD)
@pytest.mark.parametrize("kind", list(GeometryKind))
def test_expected_kind_accepts_only_its_family(geojson_type: str, kind: GeometryKind) -> None:
    if KIND_OF[geojson_type] is kind:
        assert parse_geometry(GOOD[geojson_type], expected=kind).geom_type == geojson_type
    else:
        assert error_of(GOOD[geojson_type], expected=kind).code == "wrong_type"


def test_z_is_dropped() -> None:
    geom = parse_geometry(line([128.1, -3.7, 12.5], [128.2, -3.6, 14.0]))
    assert not geom.has_z
    assert list(geom.coords) == [(128.1, -3.7), (128.2, -3.6)]


@pytest.mark.parametrize(
    ("geom", "code"),
    [
        pytest.param(shapely.Point(200, 0), "out_of_range", id="out-of-range"),
        pytest.param(shapely.LineString([(0, 0), (math.inf, 1)]), "not_finite", id="infinity"),
        pytest.param(shapely.Polygon(BOW_TIE), "invalid", id="bow-tie"),
        pytest.param(shapely.LineString([(1, 1), (1, 1)]), "too_few_points", id="collapsed-line"),
        pytest.param(shapely.Point(), "empty", id="empty"),
        pytest.param(shapely.GeometryCollection([shapely.Point(0, 0)]), "geometry_collection", id="gc"),
        pytest.param(shapely.LinearRing([(0, 0), (1, 0), (1, 1)]), "unknown_type", id="linear-ring"),
    ],
)
def test_check_geometry_rejects_with_code(geom: Any, code: str) -> None:
    with pytest.raises(GeometryError) as caught:
        check_geometry(geom)
    assert caught.value.code == code


def test_check_geometry_applies_expected_kind() -> None:
    with pytest.raises(GeometryError) as caught:
        check_geometry(shapely.Point(0, 0), expected=GeometryKind.LINE)
    assert caught.value.code == "wrong_type"


def test_check_geometry_drops_z() -> None:
    geom = check_geometry(shapely.Polygon([(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 0, 5)]))
    assert not geom.has_z
    assert geom.equals(shapely.Polygon([(0, 0), (1, 0), (1, 1)]))


@pytest.mark.parametrize(
    ("kind", "multi"),
    [
        (GeometryKind.POINT, "MultiPoint"),
        (GeometryKind.LINE, "MultiLineString"),
        (GeometryKind.POLYGON, "MultiPolygon"),
    ],
)
def test_kind_postgis_type_is_the_multi_variant(kind: GeometryKind, multi: str) -> None:
    assert kind.postgis_type() == multi
    assert kind.accepts(multi)
