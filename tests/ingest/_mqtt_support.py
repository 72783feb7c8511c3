"""Test support for MQTT ingest: a real Mosquitto on a free port, the subscriber as a process, a publisher."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, text

from layers.access.auth import create_key
from tests._server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    check: Callable[[], bool], timeout_s: float = 20, what: str = "condition", log: Subscriber | None = None
) -> None:
    """Poll `check` until it holds; fail the test after `timeout_s` (with the subscriber's log, if given)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}" + (f"\n{log.log()}" if log else ""))
        time.sleep(0.1)


class Mosquitto:
    """A Mosquitto broker of this test only, on 127.0.0.1, persisting to a temp folder; stopped by PID."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {folder}/",
            "max_queued_messages 100000",  # the default (1000) would drop messages while the DB is down
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # keep to the temp folder's owner instead of switching to `mosquitto`
        (folder / "mosquitto.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        with (self.folder / "mosquitto.log").open("ab") as log:
            self.proc = subprocess.Popen(
                ["mosquitto", "-c", str(self.folder / "mosquitto.conf")], stdout=log, stderr=log
            )
        wait_for(self._accepting, 10, "mosquitto to listen")

    def _accepting(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the broker gracefully (it saves its persistent sessions)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=15)
        self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh Mosquitto of this test."""
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@dataclass
class Subscriber:
    """`python -m ingest.mqtt` as a process of this test, with its log in a temp file."""

    database_url: str
    port: int
    api_key: str
    log_path: Path
    client_id: str = "kendali-test"
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the subscriber process."""
        env = (
            os.environ
            | {
                "DATABASE_URL": self.database_url,
                "KENDALI_MQTT__PORT": str(self.port),
                "KENDALI_MQTT__API_KEY": self.api_key,
                "KENDALI_MQTT__CLIENT_ID": self.client_id,
                "KENDALI_MQTT__RECONNECT_MAX_S": "2",
            }
            | self.extra_env
        )
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ingest.mqtt"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
            )

    def kill(self) -> None:
        """Kill the process at once (no chance to finish a batch)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        """Ask the process to stop and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        """Return the end of the subscriber's log."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]


class Publisher:
    """A QoS 1 publisher that remembers which messages the broker acknowledged (PUBACK)."""

    def __init__(self, port: int, client_id: str = "test-publisher") -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        self.acked: set[int] = set()
        self.lock = threading.Lock()
        self.client.on_publish = self._on_publish
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_publish(self, _c: paho.Client, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        with self.lock:
            self.acked.add(mid)

    def publish(self, topic: str, payload: bytes | str) -> int:
        """Publish with QoS 1; return the message id."""
        return self.client.publish(topic, payload, qos=1).mid

    def publish_and_wait(self, topic: str, payload: bytes | str) -> None:
        """Publish with QoS 1 and wait for the broker's PUBACK."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def status_payload(status: str, observed_at: datetime, value: float | None = None) -> str:
    """Return a status message body."""
    body: dict[str, Any] = {"status": status, "observed_at": observed_at.isoformat()}
    if value is not None:
        body["value"] = value
    return json.dumps(body)


def committed_key(engine: Engine, name: str, roles: list[str]) -> Iterator[str]:
    """Create and commit an API key; delete it afterwards (a generator for fixtures)."""
    with engine.begin() as conn:
        new = create_key(conn, name, roles)
    yield new.secret
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_keys WHERE id = :id"), {"id": new.id})


@pytest.fixture
def mqtt_asset(engine: Engine) -> Iterator[tuple[int, str]]:
    """A committed dumping point of this test only (id, external id); deleted with its history after."""
    external_id = f"TEST-MQTT-{os.getpid()}-{time.monotonic_ns()}"
    with engine.begin() as conn:
        asset_id = conn.execute(
            text(
                "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency, demo) "
                "SELECT layer_id, :ext, 'MQTT test', geom, properties, agency, true FROM assets "
                "WHERE layer_id = 'dumping_points' ORDER BY id LIMIT 1 RETURNING id"
            ),
            {"ext": external_id},
        ).scalar_one()
    yield int(asset_id), external_id
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE payload->'ids' @> to_jsonb(:id)"), {"id": asset_id})
        conn.execute(text("DELETE FROM ingest_dead_letters WHERE topic LIKE :t"), {"t": f"%{external_id}%"})
        conn.execute(text("DELETE FROM assets WHERE id = :id"), {"id": asset_id})


def observed(engine: Engine, asset_id: int) -> list[datetime]:
    """Return the observed_at of every stored report of an asset, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT observed_at FROM observations WHERE asset_id = :a ORDER BY observed_at"),
            {"a": asset_id},
        )
        return [r.observed_at for r in rows]
