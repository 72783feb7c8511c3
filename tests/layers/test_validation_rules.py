"""Property and geometry validation on write gives clear, bilingual errors; the store refuses bad rows."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from layers.catalog import LAYERS
from layers.db import translate
from layers.editing.validation import validate_geometry, validate_properties
from layers.errors import InvalidGeometryError, InvalidInput, InvalidProperties

GOOD_CAMERA = {"camera_id": "C1", "view_direction_deg": 90, "fov_deg": 60, "range_m": 80}


def test_valid_camera_properties_are_normalised() -> None:
    out = validate_properties(LAYERS["cctv"], GOOD_CAMERA)
    assert out["ptz"] is False and out["view_direction_deg"] == 90


@pytest.mark.parametrize(
    ("layer", "data", "field"),
    [
        ("cctv", GOOD_CAMERA | {"view_direction_deg": 400}, "view_direction_deg"),
        ("cctv", GOOD_CAMERA | {"secret": 1}, "secret"),
        ("cctv", {k: v for k, v in GOOD_CAMERA.items() if k != "camera_id"}, "camera_id"),
        (
            "taxpayers",
            {"nop": "x", "business_name": "A", "category": "restoran", "tapping_box_id": "T"},
            "nop",
        ),
        ("dumping_points", {"tps_type": "landfill", "capacity_m3": 6}, "tps_type"),
        ("cctv", GOOD_CAMERA | {"camera_id": "CAM\u0000-1"}, "camera_id"),  # PostgreSQL cannot store U+0000
    ],
)
def test_bad_properties_name_the_field(layer: str, data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidProperties) as caught:
        validate_properties(LAYERS[layer], data)
    assert any(e["field"] == field for e in caught.value.details["errors"])
    assert field in caught.value.message("en") and field in caught.value.message("id")


def test_das_thresholds_must_rise() -> None:
    data = {
        "station_code": "S",
        "river_code": "R",
        "river_name": "Wai",
        "waspada_cm": 300,
        "siaga_cm": 200,
        "awas_cm": 400,
    }
    with pytest.raises(InvalidProperties, match="thresholds must rise"):
        validate_properties(LAYERS["das_stations"], data)


def test_wrong_geometry_kind_is_refused() -> None:
    with pytest.raises(InvalidGeometryError) as caught:
        validate_geometry(
            LAYERS["cctv"], {"type": "LineString", "coordinates": [[128.1, -3.7], [128.2, -3.7]]}
        )
    assert caught.value.details["reason"] == "wrong_type"


def test_self_intersecting_polygon_is_refused_with_reason() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[128.1, -3.7], [128.2, -3.6], [128.2, -3.7], [128.1, -3.6], [128.1, -3.7]]],
    }
    with pytest.raises(InvalidGeometryError, match="Self-intersection"):
        validate_geometry(LAYERS["response_areas"], bowtie)


def test_database_refuses_invalid_geometry(conn: Connection) -> None:
    insert = text(
        "INSERT INTO assets (layer_id, external_id, name, geom, agency) VALUES ('districts', 'bad', 'bad', "
        "ST_GeomFromText('POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))', 4326), 'pupr')"
    )
    with pytest.raises(DBAPIError) as caught, conn.begin_nested():
        conn.execute(insert)
    assert isinstance(translate(caught.value), InvalidInput)


def test_database_refuses_another_srid(conn: Connection) -> None:
    insert = text(
        "INSERT INTO assets (layer_id, external_id, name, geom, agency) VALUES ('cctv', 'srid', 'x', "
        "ST_SetSRID(ST_MakePoint(400000, 9590000), 32752), 'kominfo')"
    )
    with pytest.raises(DBAPIError), conn.begin_nested():
        conn.execute(insert)
