"""Staleness: silent assets read as stale, are announced once, and leave the stale set when they report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from layers.access.policy import principal_for
from layers.live.events import events_after, latest_event_id
from layers.live.partitions import ensure_observation_partitions
from layers.live.staleness import check_staleness
from layers.live.status import StatusReport, write_reports

DLHP = principal_for("key:tps", ["dlhp-operator"], kind="key")


def _tps(conn: Connection, n: int = 0) -> int:
    return int(
        conn.execute(
            text("SELECT id FROM assets WHERE layer_id = 'dumping_points' ORDER BY id OFFSET :n LIMIT 1"),
            {"n": n},
        ).scalar_one()
    )


def _silence(conn: Connection, asset_id: int, hours: float) -> None:
    """Make the asset's latest report `hours` old (dumping points go stale after 6 h)."""
    conn.execute(
        text("UPDATE asset_status SET observed_at = now() - make_interval(hours => :h) WHERE asset_id = :a"),
        {"h": hours, "a": asset_id},
    )


def _stale_events_naming(conn: Connection, after: int, asset_id: int) -> int:
    return sum(1 for e in events_after(conn, after) if e.type == "stale" and asset_id in e.payload["ids"])


@pytest.mark.parametrize(("hours", "stale"), [(7, True), (1, False)])
def test_the_feature_api_reads_an_asset_silent_past_stale_after_as_stale(
    client: TestClient, session: Session, hours: float, stale: bool
) -> None:
    asset_id = _tps(session.connection())
    _silence(session.connection(), asset_id, hours)
    response = client.get(f"/collections/dumping_points/items/{asset_id}")
    assert response.status_code == 200
    assert response.json()["properties"]["stale"] is stale


def test_a_stale_asset_is_announced_once(conn: Connection) -> None:
    asset_id = _tps(conn)
    before = latest_event_id(conn)
    _silence(conn, asset_id, 7)
    first = check_staleness(conn)
    second = check_staleness(conn)
    assert asset_id in first["dumping_points"]
    assert asset_id not in second.get("dumping_points", [])
    assert _stale_events_naming(conn, before, asset_id) == 1


def test_a_fresh_asset_is_not_announced(conn: Connection) -> None:
    asset_id = _tps(conn)
    _silence(conn, asset_id, 1)
    assert asset_id not in check_staleness(conn).get("dumping_points", [])


def test_an_asset_that_reports_again_leaves_the_stale_set_and_can_go_stale_again(conn: Connection) -> None:
    asset_id = _tps(conn, 3)
    _silence(conn, asset_id, 7)
    check_staleness(conn)
    report = StatusReport(
        status="half", observed_at=datetime.now(UTC), source="stale-test", asset_id=asset_id
    )
    write_reports(conn, DLHP, [report])
    check_staleness(conn)
    marked = conn.execute(text("SELECT count(*) FROM stale_marks WHERE asset_id = :a"), {"a": asset_id})
    assert marked.scalar_one() == 0
    _silence(conn, asset_id, 8)
    assert asset_id in check_staleness(conn)["dumping_points"]


def test_a_check_at_a_later_instant_finds_assets_that_passed_their_limit(conn: Connection) -> None:
    asset_id = _tps(conn, 4)
    _silence(conn, asset_id, 1)
    later = datetime.now(UTC) + timedelta(hours=6)
    assert asset_id in check_staleness(conn, now=later)["dumping_points"]


def test_observation_partitions_are_kept_three_months_ahead(conn: Connection) -> None:
    ensure_observation_partitions(conn)
    now = datetime.now(UTC)
    years, month0 = divmod(now.month - 1 + 3, 12)
    name = f"observations_{now.year + years}_{month0 + 1:02d}"
    assert conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar_one()
