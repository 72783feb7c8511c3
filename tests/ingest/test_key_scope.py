"""Device keys bound to assets and MQTT topics, enforced over a real broker and by a poller of a real feed."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select, text

from ingest.mqtt_messages import OUTSIDE_TOPIC_SCOPE
from ingest.poller_config import PollerSettings
from ingest.pollers import serve_pollers
from layers.access.auth import create_key
from layers.live.dead_letters import ingest_dead_letters
from layers.settings import DatabaseSettings
from tests.ingest._mqtt_support import (
    Mosquitto,
    Publisher,
    Subscriber,
    broker,
    observed,
    status_payload,
    wait_for,
)
from tests.ingest._poll_servers import LocalHttp

__all__ = ["broker"]  # a fixture used by name

INSERT = text(
    "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency) "
    "SELECT :l, :e, 'uji cakupan kunci', geom, properties, agency FROM assets "
    "WHERE layer_id = :l ORDER BY id LIMIT 1 RETURNING id"
)


@pytest.fixture
def prefix() -> str:
    """An external-id prefix of this test only."""
    return f"TEST-KS-{os.getpid()}-{time.monotonic_ns()}"


def _committed_assets(engine: Engine, layer_id: str, external_ids: list[str]) -> list[int]:
    """Commit copies of a layer's first asset under new external ids; return their ids."""
    with engine.begin() as conn:
        return [int(conn.execute(INSERT, {"l": layer_id, "e": e}).scalar_one()) for e in external_ids]


def _cleanup(engine: Engine, prefix: str, key_id: int) -> None:
    with engine.begin() as conn:
        found = conn.execute(text("SELECT id FROM assets WHERE external_id LIKE :p"), {"p": f"{prefix}%"})
        ids = list(found.scalars())
        drop = text("DELETE FROM events WHERE payload->'ids' @> ANY(CAST(:k AS jsonb[]))")
        conn.execute(drop, {"k": [f"[{i}]" for i in ids]})
        conn.execute(text("DELETE FROM ingest_dead_letters WHERE topic LIKE :t"), {"t": f"%{prefix}%"})
        conn.execute(text("DELETE FROM assets WHERE id = ANY(:i)"), {"i": ids})
        conn.execute(text("DELETE FROM api_keys WHERE id = :k"), {"k": key_id})


def _topic(external_id: str) -> str:
    return f"kendali/dumping_points/{external_id}/status"


@pytest.fixture
def bound_subscriber(
    engine: Engine, database_url: str, broker: Mosquitto, prefix: str, tmp_path: Path
) -> Iterator[tuple[Subscriber, list[int]]]:
    """A subscriber whose key reports for `{prefix}-a` only, and takes messages on the topics of -a and -b."""
    ids = _committed_assets(engine, "dumping_points", [f"{prefix}-a", f"{prefix}-b"])
    with engine.begin() as conn:
        topics = [_topic(f"{prefix}-a"), _topic(f"{prefix}-b")]
        key = create_key(conn, "tps-a", ["dlhp-operator"], asset_scope=[f"{prefix}-a"], topic_scope=topics)
    sub = Subscriber(database_url, broker.port, key.secret, tmp_path / "subscriber.log")
    sub.start()
    try:
        wait_for(lambda: "subscribed to" in sub.log(), what="the subscription", log=sub)
        yield sub, ids
    finally:
        sub.stop()
        _cleanup(engine, prefix, key.id)


def _reasons(engine: Engine, prefix: str) -> dict[str, str]:
    letters = ingest_dead_letters.c
    query = select(letters.topic, letters.reason).where(letters.topic.contains(prefix))
    with engine.connect() as conn:
        return {r.topic: r.reason for r in conn.execute(query)}


def test_mqtt_report_for_another_asset_of_the_layer_is_dead_lettered(
    engine: Engine, bound_subscriber: tuple[Subscriber, list[int]], broker: Mosquitto, prefix: str
) -> None:
    sub, (mine, other) = bound_subscriber
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    publisher = Publisher(broker.port)
    publisher.publish_and_wait(_topic(f"{prefix}-b"), status_payload("full", now, 90))
    publisher.publish_and_wait(_topic(f"{prefix}-a"), status_payload("half", now, 50))
    publisher.close()
    wait_for(lambda: observed(engine, mine) == [now], what="the own asset's report", log=sub)
    wait_for(lambda: len(_reasons(engine, prefix)) == 1, what="a dead letter", log=sub)
    assert "reports only for its own assets" in _reasons(engine, prefix)[_topic(f"{prefix}-b")]
    assert observed(engine, other) == []


def test_mqtt_message_outside_the_key_topics_is_dead_lettered(
    engine: Engine, bound_subscriber: tuple[Subscriber, list[int]], broker: Mosquitto, prefix: str
) -> None:
    sub, (mine, _) = bound_subscriber
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    publisher = Publisher(broker.port)
    publisher.publish_and_wait(_topic(f"{prefix}-c"), status_payload("full", now, 90))
    publisher.publish_and_wait(_topic(f"{prefix}-a"), status_payload("half", now, 50))
    publisher.close()
    wait_for(lambda: observed(engine, mine) == [now], what="the allowed topic's report", log=sub)
    wait_for(lambda: len(_reasons(engine, prefix)) == 1, what="a dead letter", log=sub)
    assert _reasons(engine, prefix) == {_topic(f"{prefix}-c"): OUTSIDE_TOPIC_SCOPE}


POLLER = """
[[poller]]
name = "ks-feed"
kind = "http_json"
layer = "traffic_junctions"
url = "{url}/feed"
interval_s = 0.2
timeout_s = 1.0
[poller.mapping]
items = "counts"
external_id = "id"
value = "vehicles"
value_thresholds = [[0, "lancar"], [300, "padat"]]
"""


def _statuses(engine: Engine, prefix: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.external_id, s.status FROM assets a JOIN asset_status s ON s.asset_id = a.id "
                "WHERE a.external_id LIKE :p AND s.source = 'ks-feed'"
            ),
            {"p": f"{prefix}%"},
        )
        return {r.external_id.removeprefix(prefix): r.status for r in rows}


async def _poll_until_stored(settings: PollerSettings, engine: Engine, prefix: str) -> None:
    stop = asyncio.Event()
    polling = asyncio.create_task(serve_pollers(settings, stop))
    deadline = time.monotonic() + 30
    while not await asyncio.to_thread(_statuses, engine, prefix) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    await polling


def test_poller_key_reports_only_for_its_own_junction(
    engine: Engine, database_url: str, prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _committed_assets(engine, "traffic_junctions", [f"{prefix}-1", f"{prefix}-2"])
    with engine.begin() as conn:
        key = create_key(conn, "ks-feed", ["dishub-operator"], asset_scope=[f"traffic_junctions:{prefix}-1"])
    http = LocalHttp()
    http.feed = {"counts": [{"id": f"{prefix}-1", "vehicles": 400}, {"id": f"{prefix}-2", "vehicles": 10}]}
    path = tmp_path / "pollers.toml"
    path.write_text(POLLER.format(url=http.url))
    db = DatabaseSettings(url=database_url)  # type: ignore[arg-type]
    settings = PollerSettings(file=path, api_key=SecretStr(key.secret), db=db)
    try:
        with http.running(), caplog.at_level(logging.WARNING, logger="ingest.pollers"):
            asyncio.run(_poll_until_stored(settings, engine, prefix))
        # Both junctions came in the same feed document, so were written in the same batch.
        assert _statuses(engine, prefix) == {"-1": "padat"}
        assert f"reports only for its own assets; traffic_junctions '{prefix}-2'" in caplog.text
    finally:
        _cleanup(engine, prefix, key.id)
