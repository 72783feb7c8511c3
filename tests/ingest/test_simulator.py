"""The demo simulator drives live status through the real HTTP path (and MQTT), at a bounded rate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ingest.settings import MqttSettings
from ingest.simulator import SIMULATOR_ROLES, SimulateOptions, simulate, simulator_key
from tests.ingest._mqtt_support import Mosquitto, Subscriber, broker, committed_key, wait_for

__all__ = ["broker"]
LAYERS = ("cctv", "city_apps", "das_stations")


@pytest.fixture
def sim_key(engine: Engine) -> Iterator[str]:
    """The simulator's committed key."""
    yield from committed_key(engine, "sim-test", list(SIMULATOR_ROLES))


@pytest.fixture
def restored(engine: Engine) -> Iterator[datetime]:
    """Put the simulated layers' live status and the event log back as they were; yield the start time."""
    started = datetime.now(UTC)
    scope = {"layers": list(LAYERS)}
    with engine.connect() as conn:
        before = [dict(r._mapping) for r in conn.execute(text(_LIVE), scope)]
        last_event = conn.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one()
    yield started
    with engine.begin() as conn:
        conn.execute(text(_FORGET_HISTORY), {"t": started, **scope})
        conn.execute(text(_FORGET_LATEST), scope)
        if before:
            conn.execute(text(_RESTORE), before)
        conn.execute(text("DELETE FROM events WHERE id > :id"), {"id": last_event})


_FORGET_HISTORY = """
    DELETE FROM observations
    WHERE observed_at >= :t AND asset_id IN (SELECT id FROM assets WHERE layer_id = ANY(:layers))
"""
_FORGET_LATEST = """
    DELETE FROM asset_status WHERE asset_id IN (SELECT id FROM assets WHERE layer_id = ANY(:layers))
"""
_LIVE = """
    SELECT s.asset_id, s.status, s.value, s.unit, s.observed_at, s.received_at, s.source,
           s.details::text AS details
    FROM asset_status s JOIN assets a ON a.id = s.asset_id WHERE a.layer_id = ANY(:layers)
"""
_RESTORE = """
    INSERT INTO asset_status (asset_id, status, value, unit, observed_at, received_at, source, details)
    VALUES (:asset_id, :status, :value, :unit, :observed_at, :received_at, :source, CAST(:details AS jsonb))
"""


def _fresh(engine: Engine, since: datetime, layer: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT s.source FROM asset_status s JOIN assets a ON a.id = s.asset_id "
                    "WHERE a.layer_id = :l AND s.observed_at >= :t"
                ),
                {"l": layer, "t": since},
            ).scalars()
        )


def _options(url: str, key: str, **kw: Any) -> SimulateOptions:
    base: dict[str, Any] = {"layers": LAYERS, "interval_s": 0.5, "speed": 1200, "duration_s": 4, "seed": 1}
    return SimulateOptions(server_url=url, api_key=key, **(base | kw))


def test_simulator_changes_live_status_through_http_and_records_events(
    engine: Engine, server_url: str, sim_key: str, restored: datetime
) -> None:
    tally = simulate(_options(server_url, sim_key))
    assert tally.accepted > 0 and tally.failed == 0 and tally.rejected == 0
    for layer in LAYERS:
        assert set(_fresh(engine, restored, layer)) == {"key:sim-test"}, layer
    with engine.connect() as conn:
        layers = set(
            conn.execute(
                text("SELECT DISTINCT layer_id FROM events WHERE type = 'status' AND at >= :t"),
                {"t": restored},
            ).scalars()
        )
    assert set(LAYERS) <= layers


def test_simulator_sends_no_more_than_its_rate(server_url: str, sim_key: str, restored: datetime) -> None:
    tally = simulate(_options(server_url, sim_key, max_rate=10, duration_s=2))
    sent = tally.accepted + tally.duplicate + tally.rejected + tally.failed
    assert 0 < sent <= 10 * 0.5 * tally.ticks


def test_simulator_publishes_sensor_status_over_mqtt(
    engine: Engine,
    server_url: str,
    sim_key: str,
    restored: datetime,
    database_url: str,
    broker: Mosquitto,
    tmp_path: Path,
) -> None:
    subscriber = Subscriber(
        database_url, broker.port, sim_key, tmp_path / "subscriber.log", client_id="sim-test"
    )
    subscriber.start()
    try:
        wait_for(lambda: "subscribed to" in subscriber.log(), what="the subscription", log=subscriber)
        tally = simulate(_options(server_url, sim_key, mqtt=MqttSettings(port=broker.port)))
        assert tally.published > 0
        wait_for(
            lambda: "mqtt" in _fresh(engine, restored, "das_stations"), what="sensor status", log=subscriber
        )
        assert set(_fresh(engine, restored, "cctv")) == {"key:sim-test"}
    finally:
        subscriber.stop()


def test_simulator_key_is_kept_and_reused_while_valid(engine: Engine, tmp_path: Path) -> None:
    key_file = tmp_path / "simulator.key"
    with engine.connect() as conn:
        first = simulator_key(conn, key_file)
        again = simulator_key(conn, key_file)
        conn.rollback()
    assert first == again
    assert key_file.stat().st_mode & 0o077 == 0
