"""MQTT ingest through a real Mosquitto: round trip, ack only after commit, dead letters, reconnects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from layers.live.dead_letters import ingest_dead_letters
from tests.ingest._mqtt_support import (
    Mosquitto,
    Publisher,
    Subscriber,
    broker,
    committed_key,
    mqtt_asset,
    observed,
    status_payload,
    wait_for,
)

__all__ = ["broker", "mqtt_asset"]  # fixtures used by name


@pytest.fixture
def mqtt_key(engine: Engine) -> Iterator[str]:
    """A committed device key of DLHP (reports for dumping points only)."""
    yield from committed_key(engine, "mqtt-test", ["dlhp-operator"])


@pytest.fixture
def subscriber(database_url: str, broker: Mosquitto, mqtt_key: str, tmp_path: Path) -> Iterator[Subscriber]:
    """The subscriber process, connected to this test's broker."""
    sub = Subscriber(database_url, broker.port, mqtt_key, tmp_path / "subscriber.log")
    sub.start()
    wait_for(lambda: "subscribed to" in sub.log(), what="the subscription", log=sub)
    yield sub
    sub.stop()


@pytest.fixture
def publisher(broker: Mosquitto) -> Iterator[Publisher]:
    """A QoS 1 publisher on this test's broker."""
    pub = Publisher(broker.port)
    yield pub
    pub.close()


@pytest.fixture
def now() -> datetime:
    """A time later than any demo report."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)


def _topic(external_id: str) -> str:
    return f"kendali/dumping_points/{external_id}/status"


def _blocked_on_asset_status(engine: Engine) -> bool:
    with engine.connect() as conn:
        waiting = conn.execute(
            text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'asset_status'::regclass")
        ).scalar_one()
    return bool(waiting)


def test_published_report_becomes_latest_status_and_history(
    engine: Engine, subscriber: Subscriber, publisher: Publisher, mqtt_asset: tuple[int, str], now: datetime
) -> None:
    asset_id, external_id = mqtt_asset
    publisher.publish_and_wait(_topic(external_id), status_payload("full", now, 88.5))
    wait_for(lambda: observed(engine, asset_id) == [now], what="the report in observations", log=subscriber)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, value, unit, source FROM asset_status WHERE asset_id = :a"), {"a": asset_id}
        ).one()
    assert tuple(row) == ("full", 88.5, "%", "mqtt")


def test_message_is_redelivered_when_the_subscriber_dies_before_commit(
    engine: Engine, subscriber: Subscriber, publisher: Publisher, mqtt_asset: tuple[int, str], now: datetime
) -> None:
    asset_id, external_id = mqtt_asset
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE asset_status IN EXCLUSIVE MODE"))
        publisher.publish_and_wait(_topic(external_id), status_payload("half", now, 40))
        wait_for(lambda: _blocked_on_asset_status(engine), what="the subscriber to reach its write")
        subscriber.kill()  # delivered to it, written but not committed, so never acked
        blocker.rollback()
    assert observed(engine, asset_id) == []
    subscriber.start()  # same client id: the broker redelivers the unacked message
    wait_for(lambda: observed(engine, asset_id) == [now], what="redelivery", log=subscriber)


def _letters(engine: Engine, token: str) -> list[tuple[str, str, str]]:
    letters = ingest_dead_letters.c
    query = select(letters.source, letters.payload, letters.reason).where(letters.topic.contains(token))
    with engine.connect() as conn:
        return [(r.source, r.payload, r.reason) for r in conn.execute(query.order_by(letters.id))]


TPS = "kendali/dumping_points/{ext}/status"
NOW = '"observed_at": "{now}"'


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TPS, "{not json", "not valid JSON"),
        ("kendali/volcanoes/{ext}/status", '{"status": "awas", ' + NOW + "}", "unknown layer"),
        ("kendali/dumping_points/{ext}-x/status", '{"status": "full", ' + NOW + "}", "unknown asset"),
        (TPS, '{"status": "burning", ' + NOW + "}", "burning"),
        (TPS, '{"status": "full"}', "observed_at"),
        (TPS, '{"status": "full", "value": 900, ' + NOW + "}", "900"),
        (TPS, '{"status": "full", ' + NOW + ', "details": {"a": "\\ud800"}}', "cannot be stored"),
    ],
    ids=["bad-json", "unknown-layer", "unknown-asset", "bad-status", "no-time", "out-of-range", "unstorable"],
)
def test_malformed_message_goes_to_dead_letters_with_its_reason(
    engine: Engine,
    subscriber: Subscriber,
    publisher: Publisher,
    mqtt_asset: tuple[int, str],
    now: datetime,
    topic: str,
    payload: str,
    reason: str,
) -> None:
    external_id = mqtt_asset[1]
    topic = topic.replace("{ext}", external_id)
    payload = payload.replace("{now}", now.isoformat())
    publisher.publish_and_wait(topic, payload)
    wait_for(lambda: len(_letters(engine, external_id)) == 1, what="a dead letter", log=subscriber)
    assert _letters(engine, external_id)[0][:2] == ("mqtt", payload)
    assert reason in _letters(engine, external_id)[0][2]
    assert observed(engine, mqtt_asset[0]) == []


def test_dead_lettered_message_is_acked_and_not_redelivered(
    engine: Engine, subscriber: Subscriber, publisher: Publisher, mqtt_asset: tuple[int, str], now: datetime
) -> None:
    external_id = mqtt_asset[1]
    publisher.publish_and_wait(_topic(external_id), "{broken")
    wait_for(lambda: len(_letters(engine, external_id)) == 1, what="a dead letter", log=subscriber)
    subscriber.stop()
    subscriber.start()  # a message left unacked would come back now and be dead-lettered again
    publisher.publish_and_wait(_topic(external_id), status_payload("empty", now, 5))
    wait_for(lambda: observed(engine, mqtt_asset[0]) == [now], what="the next report", log=subscriber)
    assert len(_letters(engine, external_id)) == 1


def test_subscriber_reconnects_after_the_broker_restarts(
    engine: Engine, broker: Mosquitto, subscriber: Subscriber, mqtt_asset: tuple[int, str], now: datetime
) -> None:
    asset_id, external_id = mqtt_asset
    first = Publisher(broker.port)
    first.publish_and_wait(_topic(external_id), status_payload("half", now - timedelta(seconds=1), 50))
    first.close()
    wait_for(lambda: len(observed(engine, asset_id)) == 1, what="the first report", log=subscriber)
    broker.stop()
    broker.start()
    second = Publisher(broker.port, client_id="test-publisher-2")
    second.publish_and_wait(_topic(external_id), status_payload("full", now, 80))
    second.close()
    wait_for(lambda: len(observed(engine, asset_id)) == 2, what="the second report", log=subscriber)


def test_messages_sent_while_the_subscriber_is_away_arrive_when_it_returns(
    engine: Engine, subscriber: Subscriber, publisher: Publisher, mqtt_asset: tuple[int, str], now: datetime
) -> None:
    asset_id, external_id = mqtt_asset
    subscriber.stop()
    times = [now - timedelta(seconds=s) for s in (3, 2, 1)]
    for t in times:
        publisher.publish_and_wait(_topic(external_id), status_payload("half", t, 45))
    subscriber.start()
    wait_for(lambda: observed(engine, asset_id) == times, what="the queued reports", log=subscriber)


def test_subscriber_refuses_to_start_with_a_wrong_key(
    database_url: str, broker: Mosquitto, tmp_path: Path
) -> None:
    sub = Subscriber(database_url, broker.port, "kdl_nope_0000", tmp_path / "subscriber.log")
    sub.start()
    assert sub.proc is not None and sub.proc.wait(timeout=30) == 2
    assert "KENDALI_MQTT__API_KEY" in sub.log()
