"""Fault test: PostgreSQL dies (`pg_ctl stop -m immediate`) under HTTP and MQTT ingest and comes back.

Runs on a throwaway cluster of its own, never the shared test cluster. Every report that was acknowledged
(HTTP 200 naming it accepted or duplicate; MQTT PUBACK from the broker, whose persistent session keeps it
until the subscriber acks after commit) must be in the database afterwards, and both ingestors must
recover by themselves.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from api.cli.cluster import LocalCluster
from layers import migrate
from layers.access.auth import create_key
from layers.db import create_db_engine
from layers.demo.loader import load_demo
from layers.settings import DatabaseSettings
from tests._server import free_port, kendali_server
from tests.ingest._mqtt_support import Mosquitto, Publisher, Subscriber, status_payload, wait_for

REPORTS_PER_PATH = 1500
HTTP_BATCH = 50


def stop_immediately(local: LocalCluster) -> None:
    """Stop the cluster the way a crash would: no checkpoint, clients cut off."""
    state = local.state()
    assert state is not None
    local._run("pg_ctl", "-D", state.pgdata, "-m", "immediate", "-w", "stop")


def start_on_same_port(local: LocalCluster) -> None:
    """Start the cluster again on its old port, as the ingestors' URLs name it.

    LocalCluster.up() would move to a new port here: its free-port probe does not set SO_REUSEADDR, so the
    crashed server's TIME_WAIT sockets make the old port look taken.
    """
    state = local.state()
    assert state is not None
    log = str(Path(state.pgdata).parent / "server.log")
    local._run("pg_ctl", "-D", state.pgdata, "-l", log, "-w", "-t", "60", "-o", f"-p {state.port}", "start")


@dataclass
class FaultCity:
    """The throwaway cluster with the demo city, and the dumping points the load reports on."""

    cluster: LocalCluster
    url: str
    engine: Engine
    assets: list[tuple[int, str]]
    t0: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    )


@pytest.fixture
def city(tmp_path: Path) -> Iterator[FaultCity]:
    """A cluster of this test only, migrated, with a small demo city; stopped and deleted afterwards."""
    local = LocalCluster(tmp_path / "faultdb")
    url = local.up("kendali")
    engine = create_db_engine(DatabaseSettings(url=url))
    try:
        migrate.upgrade(url, engine)
        load_demo(engine, scale=1, seed=42, force=False, data_dir=tmp_path / "data", raster_writer=None)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, external_id FROM assets WHERE layer_id = 'dumping_points' ORDER BY id")
            )
            assets = [(int(r.id), str(r.external_id)) for r in rows]
        yield FaultCity(local, url, engine, assets)
    finally:
        engine.dispose()
        state = local.state()
        local.down()
        if state is not None:
            shutil.rmtree(Path(state.pgdata).parent, ignore_errors=True)


def _at(city: FaultCity, n: int) -> datetime:
    """Return the unique observed_at of report n (HTTP even, MQTT odd)."""
    return city.t0 + timedelta(milliseconds=n)


class HttpLoad(threading.Thread):
    """Pushes batches over HTTP; retries a batch until it is answered, like a careful client."""

    def __init__(self, city: FaultCity, base: str, key: str) -> None:
        super().__init__(daemon=True)
        self.city, self.base, self.key = city, base, key
        self.acknowledged: set[datetime] = set()
        self.failures = 0

    def _batch(self, first: int) -> list[dict[str, object]]:
        n = len(self.city.assets)
        return [
            {
                "asset_id": self.city.assets[k % n][0],
                "status": "half",
                "value": 50.0,
                "observed_at": _at(self.city, 2 * k).isoformat(),
            }
            for k in range(first, first + HTTP_BATCH)
        ]

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=10) as http:
            for first in range(0, REPORTS_PER_PATH, HTTP_BATCH):
                batch = self._batch(first)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        response = http.post("/ingest/status", json={"reports": batch})
                    except httpx.TransportError:
                        response = None
                    if response is not None and response.status_code == 200:
                        for item, result in zip(batch, response.json()["results"], strict=True):
                            if result["outcome"] in ("accepted", "duplicate"):
                                self.acknowledged.add(datetime.fromisoformat(str(item["observed_at"])))
                        break
                    self.failures += 1
                    time.sleep(0.3)
                time.sleep(0.5)


class MqttLoad(threading.Thread):
    """Publishes QoS 1 messages at a steady pace; remembers which the broker acknowledged."""

    def __init__(self, city: FaultCity, publisher: Publisher) -> None:
        super().__init__(daemon=True)
        self.city, self.publisher = city, publisher
        self.sent: dict[int, datetime] = {}

    def run(self) -> None:
        n = len(self.city.assets)
        for k in range(REPORTS_PER_PATH):
            at = _at(self.city, 2 * k + 1)
            topic = f"kendali/dumping_points/{self.city.assets[k % n][1]}/status"
            self.sent[self.publisher.publish(topic, status_payload("full", at, 80.0))] = at
            time.sleep(0.01)

    def acknowledged(self) -> set[datetime]:
        with self.publisher.lock:
            return {at for mid, at in self.sent.items() if mid in self.publisher.acked}


def _stored(city: FaultCity) -> set[datetime]:
    with city.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT observed_at FROM observations WHERE observed_at >= :a AND observed_at < :b"),
            {"a": city.t0, "b": _at(city, 2 * REPORTS_PER_PATH + 10)},
        )
        return {r.observed_at for r in rows}


@pytest.fixture
def key(city: FaultCity) -> str:
    with city.engine.begin() as conn:
        return create_key(conn, "fault-test", ["dlhp-operator"]).secret


def test_acknowledged_reports_survive_a_postgres_crash_and_ingest_recovers(
    city: FaultCity, key: str, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    subscriber = Subscriber(city.url, broker.port, key, tmp_path / "subscriber.log", client_id="fault")
    publisher = Publisher(broker.port)
    try:
        with kendali_server(city.url, free_port(), tmp_path / "server.log") as base:
            subscriber.start()
            wait_for(lambda: "subscribed to" in subscriber.log(), what="the subscription", log=subscriber)
            http_load, mqtt_load = HttpLoad(city, base, key), MqttLoad(city, publisher)
            http_load.start()
            mqtt_load.start()
            wait_for(lambda: len(_stored(city)) > 400, what="ingest under way", log=subscriber)
            stop_immediately(city.cluster)
            time.sleep(2)
            start_on_same_port(city.cluster)
            http_load.join(timeout=180)
            mqtt_load.join(timeout=60)
            acknowledged = http_load.acknowledged | mqtt_load.acknowledged()
            wait_for(lambda: acknowledged <= _stored(city), 60, "every acknowledged report", subscriber)
            assert http_load.failures > 0, "the crash should have interrupted HTTP ingest"
            assert len(http_load.acknowledged) == REPORTS_PER_PATH  # the server recovered by itself
            assert len(mqtt_load.acknowledged()) == REPORTS_PER_PATH
            assert "database unavailable" in subscriber.log()  # it saw the outage and got over it
    finally:
        publisher.close()
        subscriber.stop()
        broker.stop()
