"""The live-status write path: checks against the stored asset, idempotent retries, out-of-order safety,
the status event with its states and tiles, NOTIFY (the report's own bounds: test_report_input.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text

from layers.access.policy import principal_for
from layers.live.events import CHANNEL, events_after
from layers.live.status import StatusReport, write_reports

DLHP = principal_for("key:tps", ["dlhp-operator"], kind="key")


def _tps(conn: Connection, n: int = 0) -> tuple[int, str]:
    row = conn.execute(
        text(
            "SELECT id, external_id FROM assets WHERE layer_id = 'dumping_points' "
            "ORDER BY id OFFSET :n LIMIT 1"
        ),
        {"n": n},
    ).one()
    return int(row.id), str(row.external_id)


def _latest(conn: Connection, asset_id: int) -> tuple[str, datetime]:
    row = conn.execute(
        text("SELECT status, observed_at FROM asset_status WHERE asset_id = :a"), {"a": asset_id}
    ).one()
    return str(row.status), row.observed_at


@pytest.fixture
def now() -> datetime:
    """An instant later than the demo's latest reports (stamped when the test database was loaded)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)


def _report(now: datetime, **kw: object) -> StatusReport:
    base: dict[str, object] = {"status": "full", "value": 90.0, "observed_at": now, "source": "sensor"}
    return StatusReport(**(base | kw))  # type: ignore[arg-type]


def test_good_reports_pass_while_bad_ones_are_rejected_with_reasons(conn: Connection, now: datetime) -> None:
    asset_id, external_id = _tps(conn)
    results = write_reports(
        conn,
        DLHP,
        [
            _report(now, asset_id=asset_id),
            _report(
                now, layer_id="dumping_points", external_id="NOPE", observed_at=now - timedelta(seconds=1)
            ),
            _report(now, asset_id=asset_id, status="burning", observed_at=now - timedelta(seconds=2)),
            _report(now, asset_id=asset_id, value=999.0, observed_at=now - timedelta(seconds=4)),
        ],
    )
    assert [r.outcome for r in results] == ["accepted"] + ["rejected"] * 3
    assert "burning" in (results[2].reason or "") and "999" in (results[3].reason or "")
    assert _latest(conn, asset_id) == ("full", now)


def test_retrying_a_batch_is_idempotent(conn: Connection, now: datetime) -> None:
    asset_id, external_id = _tps(conn)
    batch = [
        _report(
            now, layer_id="dumping_points", external_id=external_id, observed_at=now - timedelta(minutes=1)
        )
    ]
    assert write_reports(conn, DLHP, batch)[0].outcome == "accepted"
    assert write_reports(conn, DLHP, batch)[0].outcome == "duplicate"
    count = conn.execute(
        text("SELECT count(*) FROM observations WHERE asset_id = :a AND source = 'sensor'"), {"a": asset_id}
    ).scalar_one()
    assert count == 1


def test_an_older_report_never_replaces_a_newer_latest(conn: Connection, now: datetime) -> None:
    asset_id, _ = _tps(conn)
    write_reports(conn, DLHP, [_report(now, asset_id=asset_id, status="overflow", value=120.0)])
    late = write_reports(
        conn,
        DLHP,
        [_report(now, asset_id=asset_id, status="empty", value=5.0, observed_at=now - timedelta(minutes=5))],
    )
    assert late[0].outcome == "accepted" and not late[0].latest
    assert _latest(conn, asset_id) == ("overflow", now)


def test_a_key_of_another_agency_cannot_report(now, conn: Connection) -> None:
    asset_id, _ = _tps(conn)
    other = principal_for("key:cam", ["kominfo-operator"], kind="key")
    result = write_reports(conn, other, [_report(now, asset_id=asset_id)])[0]
    assert result.outcome == "rejected" and result.asset_id is None


def test_notify_is_sent_after_commit(engine: Engine, database_url: str, now: datetime) -> None:
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        with engine.begin() as conn:
            asset_id, _ = _tps(conn, 5)
            write_reports(conn, DLHP, [_report(now, asset_id=asset_id, source="notify-test")])
        notes = []
        for note in listener.notifies(timeout=5):  # other notes (e.g. stale checks) may come first
            notes.append(json.loads(note.payload))
            if notes[-1]["layer"] == "dumping_points":
                notes = notes[-1:]
                break
    with engine.begin() as conn:
        stored = events_after(conn, notes[0]["id"] - 1, limit=1) if notes else []
        conn.execute(text("DELETE FROM observations WHERE source = 'notify-test'"))
    assert notes and notes[0]["layer"] == "dumping_points", notes
    assert stored and stored[0].type == "status" and asset_id in stored[0].payload["ids"]


def test_batch_larger_than_the_limit_is_refused(conn: Connection, now: datetime) -> None:
    with pytest.raises(ValueError, match="at most"):
        write_reports(conn, DLHP, [_report(now, asset_id=1)] * 10_001)
