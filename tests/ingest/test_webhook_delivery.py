"""Webhook delivery against a real receiving HTTP server: signed posts, retries with backoff, limits.

These tests commit (delivery runs in its own transactions, like the background task) and remove what
they wrote: their own DAS station (alerts, status and history go with it), its events and the webhook.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, select, text

from ingest.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSettings, deliver_due, register, sign
from layers.access.policy import principal_for
from layers.alerts import evaluate as alerts
from layers.alerts.tables import webhook_deliveries
from layers.live.events import CHANNEL, events_after
from layers.live.status import StatusReport, write_reports

ALLOWED = WebhookSettings(allow_private=True, backoff_s=10, max_attempts=3, timeout_s=5)
SUPERVISOR = principal_for("kominfo-supervisor", ["kominfo-supervisor"], kind="user")
DAS_PROPS = json.dumps(
    {
        "station_code": "WH-1",
        "river_code": "R",
        "river_name": "Wai Uji",
        "waspada_cm": 100,
        "siaga_cm": 200,
        "awas_cm": 300,
    }
)


@dataclass
class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records posts and answers with the given status codes."""

    answers: list[int] = field(default_factory=list)
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.posts.append((dict(self.headers.items()), body))
            self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiving server running in a thread for the test."""
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def station(engine: Engine) -> Iterator[int]:
    """A committed DAS station of this test's own; removed with its alerts, history and events after."""
    with engine.begin() as conn:
        asset_id = int(
            conn.execute(
                text(
                    "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency) "
                    "VALUES ('das_stations', 'WH-' || md5(random()::text), 'Pos uji webhook', "
                    "ST_SetSRID(ST_MakePoint(128.18, -3.70), 4326), CAST(:p AS jsonb), 'bpbd') RETURNING id"
                ),
                {"p": DAS_PROPS},
            ).scalar_one()
        )
    yield asset_id
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM events WHERE (type = 'alert' AND payload->>'asset_id' = :a) "
                "OR (type = 'status' AND payload->'ids' @> to_jsonb(CAST(:a AS bigint)))"
            ),
            {"a": str(asset_id)},
        )
        conn.execute(text("DELETE FROM assets WHERE id = :a"), {"a": asset_id})


@pytest.fixture
def hook(engine: Engine, receiver: Receiver) -> Iterator[tuple[int, str]]:
    """A committed webhook for DAS alerts pointing at the receiver; removed (with its deliveries) after."""
    with engine.begin() as conn:
        found, secret = register(conn, SUPERVISOR, ALLOWED, receiver.url, None, ["das_stations"])
    yield found.id, secret
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM webhooks WHERE id = :i"), {"i": found.id})
        conn.execute(
            text("DELETE FROM audit_log WHERE target = 'webhook' AND target_id = :i"), {"i": str(found.id)}
        )


def raise_siaga(engine: Engine, station: int) -> None:
    """Commit a siaga report for the station and evaluate its rules."""
    at = datetime.now(UTC).replace(microsecond=0)
    operator = principal_for("key:bpbd", ["bpbd-operator"], kind="key")
    with engine.begin() as conn:
        write_reports(conn, operator, [StatusReport("siaga", at, "webhook-test", asset_id=station)])
        alerts.evaluate(conn, at, layer_ids={"das_stations"}, asset_ids=[station], wait=True)


def delivery(conn: Connection, hook_id: int) -> Any:
    """Return the webhook's only delivery row."""
    return conn.execute(select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == hook_id)).one()


def test_webhook_receives_a_signed_post_for_a_new_alert(
    engine: Engine, receiver: Receiver, hook: tuple[int, str], station: int
) -> None:
    raise_siaga(engine, station)
    deliver_due(engine, ALLOWED, datetime.now(UTC) + timedelta(minutes=1))
    assert len(receiver.posts) == 1
    headers, body = receiver.posts[0]
    assert headers[SIGNATURE_HEADER] == sign(hook[1], headers[TIMESTAMP_HEADER], body)
    document = json.loads(body)
    assert document["type"] == "alert" and document["layer"] == "das_stations"
    assert document["payload"]["asset_id"] == station and document["payload"]["state"] == "opened"


def test_a_failed_delivery_is_retried_after_its_backoff(
    engine: Engine, receiver: Receiver, hook: tuple[int, str], station: int
) -> None:
    receiver.answers = [500]
    raise_siaga(engine, station)
    t = datetime.now(UTC) + timedelta(minutes=1)
    assert deliver_due(engine, ALLOWED, t).failed == 1
    with engine.connect() as conn:
        retry_at = delivery(conn, hook[0]).next_attempt_at
    assert retry_at >= t + timedelta(seconds=ALLOWED.backoff_s)
    assert deliver_due(engine, ALLOWED, retry_at - timedelta(seconds=1)).attempted == 0
    assert deliver_due(engine, ALLOWED, retry_at).delivered == 1
    assert len(receiver.posts) == 2 and receiver.posts[0][1] == receiver.posts[1][1]
    with engine.connect() as conn:
        row = delivery(conn, hook[0])
    assert row.delivered_at is not None and row.next_attempt_at is None


def test_delivery_gives_up_after_its_last_attempt(
    engine: Engine, receiver: Receiver, hook: tuple[int, str], station: int
) -> None:
    receiver.answers = [503] * ALLOWED.max_attempts
    raise_siaga(engine, station)
    t = datetime.now(UTC) + timedelta(minutes=1)
    for attempt in range(ALLOWED.max_attempts + 1):
        deliver_due(engine, ALLOWED, t + timedelta(hours=attempt))
    with engine.connect() as conn:
        row = delivery(conn, hook[0])
    assert len(receiver.posts) == ALLOWED.max_attempts
    assert row.next_attempt_at is None and row.delivered_at is None and row.last_error == "HTTP 503"


def test_a_private_receiver_is_refused_at_delivery_when_not_allowed(
    engine: Engine, receiver: Receiver, hook: tuple[int, str], station: int
) -> None:
    raise_siaga(engine, station)
    strict = WebhookSettings(allow_private=False)
    deliver_due(engine, strict, datetime.now(UTC) + timedelta(minutes=1))
    with engine.connect() as conn:
        row = delivery(conn, hook[0])
    assert receiver.posts == [] and "private" in row.last_error and row.next_attempt_at is not None


def test_webhooks_get_only_alerts_their_creator_may_see(conn: Connection) -> None:
    admin_of_kominfo = principal_for("kominfo-admin", ["kominfo-admin"], kind="user")
    found, _ = register(conn, admin_of_kominfo, ALLOWED, "http://127.0.0.1:9/hook", None)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    ids = {}
    for layer_id, role, status in (
        ("taxpayers", "bpprd-operator", "offline"),
        ("city_apps", "kominfo-operator", "down"),
    ):
        ids[layer_id] = conn.execute(
            text("SELECT min(id) FROM assets WHERE layer_id = :l"), {"l": layer_id}
        ).scalar_one()
        principal = principal_for(f"key:{role}", [role], kind="key")
        write_reports(conn, principal, [StatusReport(status, at, "webhook-test", asset_id=ids[layer_id])])
    alerts.evaluate(conn, at + timedelta(days=2), layer_ids=set(ids), asset_ids=list(ids.values()), wait=True)
    layers = conn.execute(
        text(
            "SELECT e.layer_id FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
            "WHERE d.webhook_id = :w"
        ),
        {"w": found.id},
    ).scalars()
    assert set(layers) == {"city_apps"}


def test_alert_events_are_notified_after_commit(engine: Engine, database_url: str, station: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        raise_siaga(engine, station)
        notes = [json.loads(n.payload) for n in listener.notifies(timeout=5, stop_after=2)]
    alert_notes = [n for n in notes if n["type"] == "alert"]
    assert alert_notes and alert_notes[0]["layer"] == "das_stations"
    with engine.connect() as conn:
        event = events_after(conn, alert_notes[0]["id"] - 1, limit=1)[0]
    assert event.payload["asset_id"] == station and event.payload["state"] == "opened"
