"""MQTT subscriber: QoS 1 on a persistent session, batched into commits, each message acked after its commit.

paho-mqtt 2.x with `manual_ack=True`: the network thread queues deliveries, the writer thread stores a
batch in one transaction (status reports through layers/status.py, unreadable messages as dead letters),
commits, and only then sends the PUBACKs. Anything not acked is redelivered by the broker after a
reconnect, and the write path ignores duplicates, so a crash at any point loses nothing.
"""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ingest.mqtt_messages import OUTSIDE_TOPIC_SCOPE, Unreadable, read_message, topic_allowed
from ingest.settings import IngestSettings, MqttSettings
from layers.access.auth import authenticate_key
from layers.access.policy import Principal
from layers.alerts.evaluate import write_and_evaluate
from layers.db import create_db_engine, translate
from layers.errors import DatabaseUnavailable, InvalidInput, QueryTimeout, Unauthorized
from layers.live.dead_letters import DeadLetter, record_dead_letters
from layers.live.status import StatusReport

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_BACKOFF_MIN_S = 0.2
DB_BACKOFF_MAX_S = 10.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as the broker delivered it on one connection (`generation`)."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    generation: int


@dataclass(frozen=True, slots=True)
class BatchCounts:
    """What one committed batch held."""

    accepted: int = 0
    duplicate: int = 0
    dead: int = 0

    def __add__(self, other: BatchCounts) -> BatchCounts:
        return BatchCounts(
            self.accepted + other.accepted, self.duplicate + other.duplicate, self.dead + other.dead
        )


def _key_rejected() -> Unauthorized:
    return Unauthorized(
        "the MQTT ingest API key (KENDALI_MQTT__API_KEY) is not valid",
        "kunci API ingest MQTT (KENDALI_MQTT__API_KEY) tidak sah",
    )


def _read_batch(
    principal: Principal, batch: list[Delivery], mqtt: MqttSettings
) -> tuple[list[StatusReport], list[Delivery], list[DeadLetter]]:
    """Read each message: the reports with their deliveries, and dead letters for the rest."""
    reports: list[StatusReport] = []
    owners: list[Delivery] = []
    dead: list[DeadLetter] = []
    for delivery in batch:
        if not topic_allowed(delivery.topic, principal.topic_scope):
            dead.append(DeadLetter("mqtt", delivery.topic, delivery.payload, OUTSIDE_TOPIC_SCOPE))
            continue
        read = read_message(
            delivery.topic, delivery.payload, prefix=mqtt.topic_prefix, max_bytes=mqtt.max_payload_bytes
        )
        if isinstance(read, Unreadable):
            dead.append(DeadLetter("mqtt", delivery.topic, delivery.payload, read.reason))
        else:
            reports.append(read)
            owners.append(delivery)
    return reports, owners, dead


def store_batch(engine: Engine, api_key: str, batch: list[Delivery], mqtt: MqttSettings) -> BatchCounts:
    """Store a batch in one transaction: reports through the write path, the rest as dead letters.

    The key's topic scope is checked here, its layer and asset scope by the write path.
    """
    with engine.begin() as conn:
        principal = authenticate_key(conn, api_key)
        if principal is None:
            raise _key_rejected()
        reports, owners, dead = _read_batch(principal, batch, mqtt)
        results = write_and_evaluate(conn, principal, reports) if reports else []
        for result, delivery in zip(results, owners, strict=True):
            if result.outcome == "rejected":
                dead.append(DeadLetter("mqtt", delivery.topic, delivery.payload, result.reason or "rejected"))
        record_dead_letters(conn, dead)
    outcomes = [r.outcome for r in results]
    return BatchCounts(outcomes.count("accepted"), outcomes.count("duplicate"), len(dead))


class MqttIngestor:
    """Subscribes, batches, commits, then acknowledges; reconnects to the broker and the database."""

    def __init__(self, settings: IngestSettings, engine: Engine, stop: threading.Event) -> None:
        if settings.mqtt.api_key is None:
            raise InvalidInput("set KENDALI_MQTT__API_KEY to a device key", "isi KENDALI_MQTT__API_KEY")
        self.mqtt = settings.mqtt
        self.api_key = settings.mqtt.api_key.get_secret_value()
        self.engine = engine
        self.stop = stop
        self.deliveries: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self.generation = 0
        self.client = self._client()

    def _client(self) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.mqtt.client_id,
            protocol=paho.MQTTv5,
            manual_ack=True,
        )
        if self.mqtt.username:
            password = self.mqtt.password.get_secret_value() if self.mqtt.password else None
            client.username_pw_set(self.mqtt.username, password)
        client.reconnect_delay_set(self.mqtt.reconnect_min_s, self.mqtt.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _connect_properties(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.mqtt.session_expiry_s
        # The broker keeps at most this many unacked messages in flight to us: room for two batches.
        props.ReceiveMaximum = min(65_535, 2 * self.mqtt.batch_size)
        return props

    def _on_connect(self, client: paho.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        self.generation += 1
        log.info("connected to the broker (session present: %s)", flags.session_present)
        client.subscribe(f"{self.mqtt.topic_prefix}/+/+/status", qos=1)

    def _on_subscribe(self, _c: paho.Client, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        if any(r.is_failure for r in reasons):
            log.error("the broker refused the subscription: %s", reasons)
        else:
            log.info("subscribed to %s/+/+/status", self.mqtt.topic_prefix)

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not self.stop.is_set():
            log.warning("lost the broker (%s); reconnecting with backoff", reason)

    def _on_message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        self.deliveries.put(
            Delivery(message.mid, message.qos, message.topic, bytes(message.payload), self.generation)
        )

    def _next_batch(self) -> list[Delivery]:
        try:
            batch = [self.deliveries.get(timeout=0.5)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.mqtt.batch_ms / 1000
        while len(batch) < self.mqtt.batch_size and (left := deadline - time.monotonic()) > 0:
            try:
                batch.append(self.deliveries.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _retrying(self, action: Callable[[], T]) -> T | None:
        """Run a database action, waiting out outages with backoff; None if asked to stop first.

        Errors that are not about reaching the database propagate to the caller.
        """
        delay = DB_BACKOFF_MIN_S
        while not self.stop.is_set():
            try:
                return action()
            except DBAPIError as exc:
                error = translate(exc)
                if not isinstance(error, DatabaseUnavailable | QueryTimeout):
                    raise
                log.warning("database unavailable (%s); retrying in %.1f s", error.message_en, delay)
            self.stop.wait(delay)
            delay = min(delay * 2, DB_BACKOFF_MAX_S)
        return None

    def _store(self, batch: list[Delivery]) -> BatchCounts | None:
        """Store a batch; a message the database refuses is isolated and dead-lettered, never looped."""
        try:
            return self._retrying(lambda: store_batch(self.engine, self.api_key, batch, self.mqtt))
        except DBAPIError as exc:
            if len(batch) == 1:
                log.error("the database refused an MQTT message: %s", exc.orig)
                return self._retrying(lambda: self._refused(batch[0]))
        total = BatchCounts()
        for delivery in batch:
            counts = self._store([delivery])
            if counts is None:
                return None
            total = total + counts
        return total

    def _refused(self, delivery: Delivery) -> BatchCounts:
        letter = DeadLetter("mqtt", delivery.topic, delivery.payload, "the store refused this report")
        with self.engine.begin() as conn:
            record_dead_letters(conn, [letter])
        return BatchCounts(dead=1)

    def _ack(self, batch: list[Delivery]) -> None:
        for delivery in batch:
            # A message from an earlier connection is redelivered on this one; its copy gets the ack.
            if delivery.generation == self.generation and delivery.qos > 0:
                self.client.ack(delivery.mid, delivery.qos)

    def _check_key(self) -> bool:
        """Refuse to start with a wrong key; wait for the database if it is down. False if stopped."""

        def check() -> bool:
            with self.engine.begin() as conn:
                if authenticate_key(conn, self.api_key) is None:
                    raise _key_rejected()
            return True

        return self._retrying(check) is not None

    def run(self) -> None:
        """Connect and ingest until `stop` is set; unacknowledged messages stay with the broker."""
        if not self._check_key():
            return
        self.client.connect_async(
            self.mqtt.host,
            self.mqtt.port,
            keepalive=self.mqtt.keepalive_s,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self.client.loop_start()
        try:
            while not self.stop.is_set():
                batch = self._next_batch()
                if not batch:
                    continue
                counts = self._store(batch)
                if counts is None:
                    break
                self._ack(batch)
                log.debug("batch of %d stored: %s", len(batch), counts)
        finally:
            self.client.disconnect()
            self.client.loop_stop()


def run_mqtt(settings: IngestSettings, stop: threading.Event | None = None) -> None:
    """Run the MQTT subscriber until `stop` is set (or SIGTERM/SIGINT when run as a command)."""
    engine = create_db_engine(settings.db)
    try:
        MqttIngestor(settings, engine, stop or threading.Event()).run()
    finally:
        engine.dispose()


def main() -> None:
    """Entry point of `python -m ingest.mqtt` (and of `kendali ingest mqtt`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        run_mqtt(IngestSettings(), stop)
    except (Unauthorized, InvalidInput) as exc:
        log.error("%s", exc.message_en)
        sys.exit(2)


if __name__ == "__main__":
    main()
