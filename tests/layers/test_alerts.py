"""Declared alert rules on the demo city: open for the right assets, wait their duration, resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, select, text

from layers.access.policy import principal_for
from layers.alerts import evaluate as alerts
from layers.alerts.rules import RULES, AlertRule, Condition, ScopeKind, check_rule, index_rules
from layers.alerts.tables import alerts as alerts_table
from layers.catalog.spec import Titles
from layers.live.events import events_after
from layers.live.status import StatusReport, write_reports

# rule -> (layer, reporting role, a status that triggers it, one that clears it)
CASES = {
    "das_siaga": ("das_stations", "bpbd-operator", "siaga", "normal"),
    "das_awas": ("das_stations", "bpbd-operator", "awas", "waspada"),
    "dumping_point_full_24h": ("dumping_points", "dlhp-operator", "overflow", "half"),
    "cctv_offline_10m": ("cctv", "kominfo-operator", "offline", "online"),
    "tapping_box_offline_1d": ("taxpayers", "bpprd-operator", "offline", "online"),
    "city_app_down": ("city_apps", "kominfo-operator", "down", "up"),
}
DURATION_RULES = [rid for rid in CASES if RULES[rid].condition.min_duration > timedelta(0)]


@pytest.fixture
def t0() -> datetime:
    """An instant after the demo's latest reports (stamped when the test database was loaded)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)


def asset_of(conn: Connection, layer_id: str, n: int = 0) -> int:
    """Return the id of the n-th asset of a layer."""
    return int(
        conn.execute(
            text("SELECT id FROM assets WHERE layer_id = :l ORDER BY id OFFSET :n LIMIT 1"),
            {"l": layer_id, "n": n},
        ).scalar_one()
    )


def report(conn: Connection, role: str, asset_id: int, status: str, at: datetime) -> None:
    """Write one status report through the live-status write path."""
    principal = principal_for(f"key:{role}", [role], kind="key")
    result = write_reports(conn, principal, [StatusReport(status, at, "alert-test", asset_id=asset_id)])[0]
    assert result.outcome == "accepted", result.reason


def switch(conn: Connection, rule_id: str, asset_id: int, t0: datetime) -> datetime:
    """Report the clearing status, then the triggering one a second later; return when it triggered."""
    _, role, trigger, clear = CASES[rule_id]
    report(conn, role, asset_id, clear, t0)
    report(conn, role, asset_id, trigger, t0 + timedelta(seconds=1))
    return t0 + timedelta(seconds=1)


def open_assets(conn: Connection, rule_id: str) -> set[int]:
    """Return the assets with an unresolved alert of a rule."""
    rows = conn.execute(
        select(alerts_table.c.asset_id).where(
            alerts_table.c.rule_id == rule_id, alerts_table.c.resolved_at.is_(None)
        )
    )
    return set(rows.scalars())


def test_every_city_wide_declared_rule_has_a_case() -> None:
    assert set(CASES) == {r.id for r in RULES.values() if r.scope.kind is ScopeKind.ALL}


@pytest.mark.parametrize("rule_id", CASES)
def test_rule_opens_an_alert_for_the_triggered_asset_only(
    conn: Connection, t0: datetime, rule_id: str
) -> None:
    layer_id, role, _, clear = CASES[rule_id]
    hit, calm = asset_of(conn, layer_id, 0), asset_of(conn, layer_id, 1)
    triggered = switch(conn, rule_id, hit, t0)
    report(conn, role, calm, clear, triggered)
    later = triggered + RULES[rule_id].condition.min_duration + timedelta(minutes=1)
    summary = alerts.evaluate(conn, later, wait=True)
    held = open_assets(conn, rule_id)
    assert hit in held and calm not in held
    assert summary.opened >= 1 and not summary.skipped


@pytest.mark.parametrize("rule_id", DURATION_RULES)
def test_duration_rule_waits_for_its_duration(conn: Connection, t0: datetime, rule_id: str) -> None:
    asset_id = asset_of(conn, CASES[rule_id][0], 2)
    triggered = switch(conn, rule_id, asset_id, t0)
    duration = RULES[rule_id].condition.min_duration
    alerts.evaluate(conn, triggered + duration - timedelta(minutes=1), wait=True)
    assert asset_id not in open_assets(conn, rule_id)
    alerts.evaluate(conn, triggered + duration + timedelta(minutes=1), wait=True)
    assert asset_id in open_assets(conn, rule_id)


def test_alert_resolves_itself_when_the_condition_clears(conn: Connection, t0: datetime) -> None:
    station = asset_of(conn, "das_stations", 3)
    triggered = switch(conn, "das_siaga", station, t0)
    alerts.evaluate(conn, triggered, wait=True)
    assert station in open_assets(conn, "das_siaga")
    report(conn, "bpbd-operator", station, "normal", triggered + timedelta(seconds=1))
    summary = alerts.evaluate(conn, triggered + timedelta(seconds=2), wait=True)
    assert station not in open_assets(conn, "das_siaga") and summary.resolved >= 1


def test_open_and_resolve_are_recorded_as_alert_events(conn: Connection, t0: datetime) -> None:
    station = asset_of(conn, "das_stations", 4)
    last = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one())
    triggered = switch(conn, "das_siaga", station, t0)
    alerts.evaluate(conn, triggered, wait=True)
    report(conn, "bpbd-operator", station, "normal", triggered + timedelta(seconds=1))
    alerts.evaluate(conn, triggered + timedelta(seconds=2), wait=True)
    mine = [e for e in events_after(conn, last) if e.type == "alert" and e.payload["asset_id"] == station]
    states = [(e.payload["rule"], e.payload["state"]) for e in mine]
    assert states == [("das_siaga", "opened"), ("das_siaga", "resolved")]
    assert mine[0].layer_id == "das_stations" and mine[0].payload["severity"] == "warning"
    assert "Siaga" in mine[0].payload["message_id"] and "Standby" in mine[0].payload["message_en"]


def test_a_second_evaluation_opens_no_duplicate(conn: Connection, t0: datetime) -> None:
    app = asset_of(conn, "city_apps", 0)
    report(conn, "kominfo-operator", app, "down", t0)
    alerts.evaluate(conn, t0, wait=True)
    alerts.evaluate(conn, t0 + timedelta(seconds=5), wait=True)
    count = conn.execute(
        text("SELECT count(*) FROM alerts WHERE rule_id = 'city_app_down' AND asset_id = :a"), {"a": app}
    ).scalar_one()
    assert count == 1


def test_duration_counts_from_the_start_of_the_run_not_the_latest_report(
    conn: Connection, t0: datetime
) -> None:
    tps = asset_of(conn, "dumping_points", 5)
    triggered = switch(conn, "dumping_point_full_24h", tps, t0)
    report(conn, "dlhp-operator", tps, "full", triggered + timedelta(seconds=1))
    alerts.evaluate(conn, triggered + timedelta(hours=24, minutes=1), wait=True)
    since = conn.execute(
        select(alerts_table.c.since).where(
            alerts_table.c.asset_id == tps, alerts_table.c.resolved_at.is_(None)
        )
    ).scalar_one()
    assert since == triggered


def test_after_write_hook_opens_alerts_of_the_written_assets(conn: Connection, t0: datetime) -> None:
    station = asset_of(conn, "das_stations", 6)
    principal = principal_for("key:bpbd", ["bpbd-operator"], kind="key")
    results = write_reports(conn, principal, [StatusReport("awas", t0, "alert-test", asset_id=station)])
    summary = alerts.evaluate_after_write(conn, results, wait=True)
    assert station in open_assets(conn, "das_awas") and summary.rules >= 2


def test_an_evaluation_is_skipped_while_another_holds_the_lock(engine: Engine, conn: Connection) -> None:
    with engine.connect() as other:
        other.execute(select(text(f"pg_advisory_lock({alerts.LOCK_KEY})")))
        try:
            assert alerts.evaluate(conn, datetime.now(UTC)).skipped
        finally:
            other.execute(select(text(f"pg_advisory_unlock({alerts.LOCK_KEY})")))


@pytest.mark.parametrize(
    ("layer_id", "condition", "match"),
    [
        ("das_stations", Condition(statuses=frozenset({"banjir"})), "vocabulary"),
        ("districts", Condition(statuses=frozenset({"x"})), "no live status"),
        ("cctv", Condition(), "needs statuses"),
    ],
)
def test_malformed_rules_are_refused(layer_id: str, condition: Condition, match: str) -> None:
    rule = AlertRule("bad", Titles("x", "x"), RULES["das_siaga"].severity, layer_id, condition)
    with pytest.raises(ValueError, match=match):
        check_rule(rule)


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        index_rules(RULES["das_siaga"], RULES["das_siaga"])
