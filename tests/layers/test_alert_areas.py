"""Area rules (geofences): response areas drawn, activated, closed or expired; place and area rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, text

from layers.access.policy import ANONYMOUS, principal_for
from layers.alerts import evaluate as alerts
from layers.alerts.area_rules import RuleIn, active_rules, create_rule, deactivate_rule, list_rules
from layers.alerts.tables import alerts as alerts_table
from layers.catalog import LAYERS
from layers.editing.edits import create_feature, delete_feature, update_feature
from layers.errors import Forbidden, InvalidInput, Unauthorized
from layers.live.status import StatusReport, write_reports

AREAS = LAYERS["response_areas"]
BPBD = principal_for("bpbd-editor", ["bpbd-editor"], kind="user")
DAS_IN_AREA = "das_siaga_in_response_area"


@pytest.fixture
def t0() -> datetime:
    """An instant after the demo's latest reports."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)


def located(conn: Connection, layer_id: str, n: int) -> tuple[int, float, float]:
    """Return (id, lon, lat) of the n-th asset of a layer."""
    row = conn.execute(
        text(
            "SELECT id, ST_X(geom) x, ST_Y(geom) y FROM assets WHERE layer_id = :l "
            "ORDER BY id OFFSET :n LIMIT 1"
        ),
        {"l": layer_id, "n": n},
    ).one()
    return int(row.id), float(row.x), float(row.y)


def draw(conn: Connection, lon: float, lat: float, **properties: Any) -> int:
    """Draw a small response area around a point through the editing path; return its id."""
    d = 0.002
    ring = [
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d],
    ]
    props = {"name": "Area uji", "hazard": "banjir", "state": "active", **properties}
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props}
    return create_feature(conn, AREAS, BPBD, feature).id


def report(conn: Connection, role: str, asset_id: int, status: str, at: datetime) -> None:
    """Write one status report through the live-status write path."""
    principal = principal_for(f"key:{role}", [role], kind="key")
    result = write_reports(conn, principal, [StatusReport(status, at, "area-test", asset_id=asset_id)])[0]
    assert result.outcome == "accepted", result.reason


def open_pairs(conn: Connection, rule_id: str) -> set[tuple[int, int | None]]:
    """Return (asset, area) of the unresolved alerts of a rule."""
    t = alerts_table
    rows = conn.execute(
        select(t.c.asset_id, t.c.area_id).where(t.c.rule_id == rule_id, t.c.resolved_at.is_(None))
    )
    return {(r.asset_id, r.area_id) for r in rows}


def test_station_in_a_fresh_active_area_reaching_siaga_opens_an_area_alert(
    conn: Connection, t0: datetime
) -> None:
    station, lon, lat = located(conn, "das_stations", 0)
    area = draw(conn, lon, lat)
    report(conn, "bpbd-operator", station, "siaga", t0)
    alerts.evaluate(conn, t0, wait=True)
    assert (station, area) in open_pairs(conn, DAS_IN_AREA)


@pytest.mark.parametrize("end", ["close", "delete"])
def test_closing_or_deleting_the_area_resolves_its_alert(conn: Connection, t0: datetime, end: str) -> None:
    station, lon, lat = located(conn, "das_stations", 1)
    area = draw(conn, lon, lat)
    report(conn, "bpbd-operator", station, "awas", t0)
    alerts.evaluate(conn, t0, wait=True)
    assert (station, area) in open_pairs(conn, DAS_IN_AREA)
    if end == "close":
        update_feature(conn, AREAS, BPBD, area, {"properties": {"state": "closed"}}, None)
    else:
        delete_feature(conn, AREAS, BPBD, area, None)
    alerts.evaluate(conn, t0 + timedelta(seconds=1), wait=True)
    assert (station, area) not in open_pairs(conn, DAS_IN_AREA)
    assert station in {a for a, _ in open_pairs(conn, "das_siaga")}  # the city-wide rule still holds


def test_an_area_past_its_valid_to_stops(conn: Connection, t0: datetime) -> None:
    station, lon, lat = located(conn, "das_stations", 2)
    area = draw(conn, lon, lat, valid_to=(t0 + timedelta(hours=1)).isoformat())
    report(conn, "bpbd-operator", station, "siaga", t0)
    alerts.evaluate(conn, t0, wait=True)
    assert (station, area) in open_pairs(conn, DAS_IN_AREA)
    alerts.evaluate(conn, t0 + timedelta(hours=2), wait=True)
    assert (station, area) not in open_pairs(conn, DAS_IN_AREA)


@pytest.mark.parametrize(
    "properties", [{"state": "draft"}, {"state": "active", "valid_from": "2099-01-01T00:00:00+00:00"}]
)
def test_draft_or_future_areas_raise_nothing(
    conn: Connection, t0: datetime, properties: dict[str, str]
) -> None:
    station, lon, lat = located(conn, "das_stations", 3)
    area = draw(conn, lon, lat, **properties)
    report(conn, "bpbd-operator", station, "siaga", t0)
    alerts.evaluate(conn, t0, wait=True)
    assert (station, area) not in open_pairs(conn, DAS_IN_AREA)


def test_a_station_outside_the_area_is_not_alerted(conn: Connection, t0: datetime) -> None:
    inside, lon, lat = located(conn, "das_stations", 4)
    outside, _, _ = located(conn, "das_stations", 10)
    area = draw(conn, lon, lat)
    report(conn, "bpbd-operator", inside, "siaga", t0)
    report(conn, "bpbd-operator", outside, "siaga", t0)
    alerts.evaluate(conn, t0, wait=True)
    pairs = open_pairs(conn, DAS_IN_AREA)
    assert (inside, area) in pairs and (outside, area) not in pairs


def place_code(conn: Connection, layer_id: str, asset_id: int) -> str:
    """Return the code of the district or village that covers an asset."""
    return str(
        conn.execute(
            text(
                "SELECT p.properties->>'code' FROM assets p JOIN assets a ON ST_Covers(p.geom, a.geom) "
                "WHERE p.layer_id = :l AND a.id = :a LIMIT 1"
            ),
            {"l": layer_id, "a": asset_id},
        ).scalar_one()
    )


def camera_rule(kind: str, **scope: Any) -> RuleIn:
    """Return an area rule on offline cameras with the given scope."""
    return RuleIn.model_validate(
        {"layer": "cctv", "condition": {"statuses": ["offline"]}, "scope": {"kind": kind, **scope}}
    )


@pytest.mark.parametrize(("kind", "place_layer"), [("district", "districts"), ("village", "villages")])
def test_district_or_village_rule_alerts_only_inside(
    conn: Connection, t0: datetime, kind: str, place_layer: str
) -> None:
    camera, _, _ = located(conn, "cctv", 0)
    code = place_code(conn, place_layer, camera)
    others = conn.execute(
        text("SELECT a.id FROM assets a WHERE a.layer_id = 'cctv' AND a.id <> :c ORDER BY a.id"),
        {"c": camera},
    ).scalars()
    outsider = next(o for o in others if place_code(conn, place_layer, o) != code)
    rule = create_rule(conn, BPBD, camera_rule(kind, code=code))
    for asset_id in (camera, outsider):
        report(conn, "kominfo-operator", asset_id, "offline", t0)
    alerts.evaluate(conn, t0, wait=True)
    assert {a for a, _ in open_pairs(conn, rule.id)} == {camera}


def test_rule_on_one_area_follows_that_area(conn: Connection, t0: datetime) -> None:
    camera, lon, lat = located(conn, "cctv", 1)
    area = draw(conn, lon, lat)
    rule = create_rule(conn, BPBD, camera_rule("area", area_id=area))
    report(conn, "kominfo-operator", camera, "offline", t0)
    alerts.evaluate(conn, t0, wait=True)
    assert open_pairs(conn, rule.id) == {(camera, area)}
    update_feature(conn, AREAS, BPBD, area, {"properties": {"state": "closed"}}, None)
    alerts.evaluate(conn, t0 + timedelta(seconds=1), wait=True)
    assert open_pairs(conn, rule.id) == set()


def test_deleting_a_rule_resolves_its_alerts(conn: Connection, t0: datetime) -> None:
    camera, lon, lat = located(conn, "cctv", 2)
    rule = create_rule(conn, BPBD, camera_rule("area", area_id=draw(conn, lon, lat)))
    report(conn, "kominfo-operator", camera, "offline", t0)
    alerts.evaluate(conn, t0, wait=True)
    assert deactivate_rule(conn, BPBD, rule.id, t0) == 1
    assert open_pairs(conn, rule.id) == set() and rule.id not in {r.id for r in active_rules(conn)}


def test_declared_rules_cannot_be_deleted(conn: Connection, t0: datetime) -> None:
    with pytest.raises(Forbidden):
        deactivate_rule(conn, BPBD, "das_siaga", t0)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"condition": {"statuses": ["burning"]}}, InvalidInput),
        ({"scope": {"kind": "district", "code": "99.99.99"}}, InvalidInput),
        ({"scope": {"kind": "area", "area_id": 999999999}}, InvalidInput),
        ({"layer": "nope"}, InvalidInput),
    ],
)
def test_bad_rules_are_refused(conn: Connection, body: dict[str, Any], error: type[Exception]) -> None:
    base = {
        "layer": "cctv",
        "condition": {"statuses": ["offline"]},
        "scope": {"kind": "active_response_areas"},
    }
    with pytest.raises(error):
        create_rule(conn, BPBD, RuleIn.model_validate(base | body))


@pytest.mark.parametrize(
    ("principal", "error"),
    [(ANONYMOUS, Unauthorized), (principal_for("dlhp", ["dlhp-editor"], kind="user"), Forbidden)],
)
def test_only_rule_managers_create_rules(conn: Connection, principal: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        create_rule(conn, principal, camera_rule("active_response_areas"))


def test_taxpayer_rules_are_hidden_from_other_agencies(conn: Connection) -> None:
    visible = {r.layer_id for r in list_rules(conn, principal_for("dlhp", ["dlhp-editor"], kind="user"))}
    assert "taxpayers" not in visible and "das_stations" in visible
