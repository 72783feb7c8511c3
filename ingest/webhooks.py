"""Posting alert events to webhooks: URL safety checks, HMAC-SHA256 signatures, bounded retries with backoff.

Deliveries are an outbox (layers/webhooks.py): `deliver_due` claims due rows in one short transaction,
posts them outside any transaction, and records the outcomes in another, so a slow receiver never holds
database locks and a crashed worker's claims come due again when their lease ends.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import secrets
import socket
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection, Engine

from layers.access.policy import Principal
from layers.alerts.webhooks import (
    Due,
    Outcome,
    Webhook,
    claim_due,
    create_webhook,
    record_outcomes,
    update_webhook,
)
from layers.errors import InvalidInput

SIGNATURE_HEADER = "X-Kendali-Signature"
TIMESTAMP_HEADER = "X-Kendali-Timestamp"
MAX_URL = 2000
USER_AGENT = "kendali-webhooks/0.1"


class WebhookSettings(BaseSettings):
    """How webhooks are checked and delivered (KENDALI_WEBHOOKS_*)."""

    model_config = SettingsConfigDict(env_prefix="KENDALI_WEBHOOKS_", env_file=".env", extra="ignore")

    # Private, loopback and link-local receivers are refused unless this is set (tests, closed networks).
    allow_private: bool = False
    timeout_s: float = Field(5.0, gt=0, le=60)
    max_attempts: int = Field(8, ge=1, le=50)
    backoff_s: float = Field(10.0, gt=0, le=3600)  # the first retry's delay, doubled on each attempt
    max_backoff_s: float = Field(3600.0, gt=0, le=86_400)
    batch_size: int = Field(50, ge=1, le=1000)
    concurrency: int = Field(8, ge=1, le=64)


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """What one `deliver_due` run did."""

    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    abandoned: int = 0


def _bad_url(en: str, id_: str) -> InvalidInput:
    return InvalidInput(f"url: {en}", f"url: {id_}", field="url")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _refuse_private(host: str, port: int) -> None:
    """Raise unless every address the host resolves to is a public one (no SSRF into the city network)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _bad_url("the host does not resolve", "nama host tidak dapat diresolusi") from None
    if not infos or not all(_public(str(info[4][0])) for info in infos):
        raise _bad_url(
            "the host is a private, loopback or link-local address",
            "host adalah alamat privat, loopback atau link-local",
        )


def check_url(url: str, settings: WebhookSettings) -> str:
    """Return the URL normalised if it is http(s), has a host, no credentials, and may be reached."""
    if not url or len(url) > MAX_URL:
        raise _bad_url(f"must have 1..{MAX_URL} characters", f"harus 1..{MAX_URL} karakter")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise _bad_url("not a valid URL", "bukan URL yang sah") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _bad_url("only http and https URLs with a host", "hanya URL http dan https dengan host")
    if parsed.userinfo:
        raise _bad_url("credentials in the URL are not allowed", "kredensial di dalam URL tidak diizinkan")
    if not settings.allow_private:
        _refuse_private(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    return str(parsed)


def new_secret() -> str:
    """Return a fresh random signing secret."""
    return secrets.token_urlsafe(32)


def register(
    conn: Connection,
    principal: Principal,
    settings: WebhookSettings,
    url: str,
    secret: str | None,
    layer_ids: Iterable[str] | None = None,
    min_severity: str = "info",
) -> tuple[Webhook, str]:
    """Check the URL and store a webhook; return it with its secret (shown to the caller once)."""
    chosen = secret or new_secret()
    hook = create_webhook(conn, principal, check_url(url, settings), chosen, layer_ids, min_severity)
    return hook, chosen


def change(
    conn: Connection, principal: Principal, settings: WebhookSettings, hook_id: int, changes: dict[str, Any]
) -> Webhook:
    """Change a webhook, checking a new URL like a new registration."""
    if "url" in changes:
        changes = {**changes, "url": check_url(str(changes["url"]), settings)}
    return update_webhook(conn, principal, hook_id, changes)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value: HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_of(due: Due) -> bytes:
    """Return the JSON body posted for a delivery."""
    document = {
        "id": due.event_id,
        "type": due.event_type,
        "layer": due.layer_id,
        "at": due.at.isoformat(),
        "payload": dict(due.payload),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _retry_at(due: Due, settings: WebhookSettings, now: datetime) -> datetime | None:
    if due.attempts >= settings.max_attempts:
        return None
    delay = min(settings.backoff_s * 2 ** (due.attempts - 1), settings.max_backoff_s)
    return now + timedelta(seconds=delay)


def post_one(client: httpx.Client, due: Due, settings: WebhookSettings, now: datetime) -> Outcome:
    """Post one delivery and return its outcome; any 2xx answer counts as delivered."""
    try:
        check_url(due.url, settings)  # again: what a name resolves to can change after registration
        body = body_of(due)
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Kendali-Event": due.event_type,
            "X-Kendali-Delivery": str(due.delivery_id),
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(due.secret, stamp, body),
        }
        response = client.post(due.url, content=body, headers=headers)
        if 200 <= response.status_code < 300:
            return Outcome(due.delivery_id, True, now)
        error = f"HTTP {response.status_code}"
    except InvalidInput as exc:
        error = exc.message_en
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Outcome(due.delivery_id, False, now, error, _retry_at(due, settings, now))


def deliver_due(engine: Engine, settings: WebhookSettings, now: datetime | None = None) -> DeliveryStats:
    """Post the deliveries due at `now` (default: the current time) and record what happened."""
    now = now or datetime.now(UTC)
    rounds = math.ceil(settings.batch_size / settings.concurrency)
    lease = timedelta(seconds=rounds * settings.timeout_s * 2 + 60)
    with engine.begin() as conn:
        due = claim_due(conn, now, settings.batch_size, lease)
    if not due:
        return DeliveryStats()
    client = httpx.Client(
        timeout=settings.timeout_s,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )
    with client, ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        outcomes = list(pool.map(lambda d: post_one(client, d, settings, now), due))
    with engine.begin() as conn:
        record_outcomes(conn, outcomes)
    delivered = sum(o.delivered for o in outcomes)
    abandoned = sum(1 for o in outcomes if not o.delivered and o.retry_at is None)
    return DeliveryStats(len(outcomes), delivered, len(outcomes) - delivered - abandoned, abandoned)
