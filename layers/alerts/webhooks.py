"""Webhooks that receive alert events: registrations, and the delivery outbox drained by ingest/webhooks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from layers.access.policy import Action, Principal, allows, principal_for
from layers.access.roles import role_matches
from layers.alerts.errors import AlertObjectNotFound
from layers.alerts.tables import webhook_deliveries, webhooks
from layers.catalog import LAYERS
from layers.errors import Forbidden, InvalidInput, Unauthorized
from layers.tables import audit_log, events

MANAGERS = frozenset({"kominfo-supervisor", "kominfo-admin"})
MAX_WEBHOOKS = 100
SEVERITIES = ("info", "warning", "critical")
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered receiver of alert events; its secret is never read back."""

    id: int
    url: str
    layers: tuple[str, ...] | None  # None: every layer its creator may see
    min_severity: str
    active: bool
    created_by: str
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        """Return the webhook as plain JSON."""
        return {
            "id": self.id,
            "url": self.url,
            "layers": list(self.layers) if self.layers is not None else None,
            "min_severity": self.min_severity,
            "active": self.active,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery claimed for sending: where to, with which secret, and the event it carries."""

    delivery_id: int
    attempts: int
    url: str
    secret: str
    event_id: int
    event_type: str
    layer_id: str | None
    at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one delivery attempt; `retry_at` None means no further attempt."""

    delivery_id: int
    delivered: bool
    at: datetime
    error: str | None = None
    retry_at: datetime | None = None


def require_manager(principal: Principal) -> None:
    """Raise unless the caller may manage webhooks (system admin or Kominfo supervisors)."""
    if principal.is_anonymous:
        raise Unauthorized("sign in to manage webhooks", "masuk untuk mengelola webhook")
    if not (principal.is_admin or any(role_matches(r, MANAGERS) for r in principal.roles)):
        raise Forbidden("you may not manage webhooks", "Anda tidak boleh mengelola webhook")


def _checked_layers(principal: Principal, layer_ids: Iterable[str] | None) -> list[str] | None:
    if layer_ids is None:
        return None
    chosen = sorted(set(layer_ids))
    hidden = [lid for lid in chosen if lid not in LAYERS or not allows(principal, Action.READ, LAYERS[lid])]
    if hidden or not chosen or len(chosen) > len(LAYERS):
        raise InvalidInput(
            f"unknown layers: {hidden or chosen}", f"lapisan tidak dikenal: {hidden or chosen}"
        )
    return chosen


def _checked_severity(severity: str) -> str:
    if severity not in SEVERITIES:
        raise InvalidInput(
            f"min_severity must be one of {', '.join(SEVERITIES)}",
            f"min_severity harus salah satu dari {', '.join(SEVERITIES)}",
        )
    return severity


def _webhook(row: Any) -> Webhook:
    found = None if row.layers is None else tuple(row.layers)
    return Webhook(row.id, row.url, found, row.min_severity, row.active, row.created_by, row.created_at)


_COLUMNS = (
    webhooks.c.id,
    webhooks.c.url,
    webhooks.c.layers,
    webhooks.c.min_severity,
    webhooks.c.active,
    webhooks.c.created_by,
    webhooks.c.created_at,
)


def _audit(conn: Connection, principal: Principal, action: str, hook_id: int, after: Any) -> None:
    conn.execute(
        insert(audit_log).values(
            actor=principal.name, action=action, target="webhook", target_id=str(hook_id), after=after
        )
    )


def create_webhook(
    conn: Connection,
    principal: Principal,
    url: str,
    secret: str,
    layer_ids: Iterable[str] | None = None,
    min_severity: str = "info",
) -> Webhook:
    """Register a webhook (the URL already checked by the caller) and audit it."""
    require_manager(principal)
    count = conn.execute(select(func.count()).select_from(webhooks)).scalar_one()
    if count >= MAX_WEBHOOKS:
        raise InvalidInput(f"at most {MAX_WEBHOOKS} webhooks", f"paling banyak {MAX_WEBHOOKS} webhook")
    values = {
        "url": url,
        "secret": secret,
        "layers": _checked_layers(principal, layer_ids),
        "min_severity": _checked_severity(min_severity),
        "created_by": principal.name,
        "creator_roles": sorted(principal.roles),
    }
    hook = _webhook(conn.execute(insert(webhooks).values(values).returning(*_COLUMNS)).one())
    _audit(conn, principal, "create", hook.id, hook.as_json())
    return hook


def list_webhooks(conn: Connection, principal: Principal) -> list[Webhook]:
    """Return every webhook, oldest first, for those who may manage them."""
    require_manager(principal)
    rows = conn.execute(select(*_COLUMNS).order_by(webhooks.c.id).limit(MAX_WEBHOOKS))
    return [_webhook(r) for r in rows]


def get_webhook(conn: Connection, principal: Principal, hook_id: int) -> Webhook:
    """Return one webhook or raise AlertObjectNotFound."""
    require_manager(principal)
    row = conn.execute(select(*_COLUMNS).where(webhooks.c.id == hook_id)).one_or_none()
    if row is None:
        raise AlertObjectNotFound("webhook", "webhook", hook_id)
    return _webhook(row)


def update_webhook(
    conn: Connection, principal: Principal, hook_id: int, changes: Mapping[str, Any]
) -> Webhook:
    """Change a webhook's url (already checked), layers, min_severity or active flag."""
    get_webhook(conn, principal, hook_id)
    values: dict[str, Any] = {}
    if "url" in changes:
        values["url"] = changes["url"]
    if "layers" in changes:
        values["layers"] = _checked_layers(principal, changes["layers"])
    if "min_severity" in changes:
        values["min_severity"] = _checked_severity(changes["min_severity"])
    if "active" in changes:
        values["active"] = bool(changes["active"])
    if values:
        conn.execute(update(webhooks).where(webhooks.c.id == hook_id).values(values))
    hook = get_webhook(conn, principal, hook_id)
    _audit(conn, principal, "update", hook_id, hook.as_json())
    return hook


def delete_webhook(conn: Connection, principal: Principal, hook_id: int) -> None:
    """Remove a webhook and its pending deliveries."""
    get_webhook(conn, principal, hook_id)
    conn.execute(delete(webhooks).where(webhooks.c.id == hook_id))
    _audit(conn, principal, "delete", hook_id, None)


def _wants(hook: Any, layer_id: str, area_layer: str | None, severity: str) -> bool:
    """Return whether a webhook takes an event: its filters, and what its creator may see."""
    if hook.layers is not None and layer_id not in hook.layers:
        return False
    if SEVERITIES.index(severity) < SEVERITIES.index(hook.min_severity):
        return False
    creator = principal_for(hook.created_by, hook.creator_roles, kind="user")
    visible = [lid for lid in (layer_id, area_layer) if lid is not None]
    return all(lid in LAYERS and allows(creator, Action.READ, LAYERS[lid]) for lid in visible)


def enqueue_deliveries(conn: Connection, items: Sequence[tuple[int, str, str | None, str]]) -> int:
    """Queue (event id, layer, area layer, severity) items for every active webhook that takes them."""
    if not items:
        return 0
    hooks = conn.execute(
        select(
            webhooks.c.id,
            webhooks.c.layers,
            webhooks.c.min_severity,
            webhooks.c.created_by,
            webhooks.c.creator_roles,
        ).where(webhooks.c.active)
    ).all()
    rows = [
        {"webhook_id": hook.id, "event_id": event_id}
        for event_id, layer_id, area_layer, severity in items
        for hook in hooks
        if _wants(hook, layer_id, area_layer, severity)
    ]
    if rows:
        conn.execute(pg_insert(webhook_deliveries).on_conflict_do_nothing(), rows)
    return len(rows)


def claim_due(conn: Connection, now: datetime, limit: int, lease: timedelta) -> list[Due]:
    """Claim deliveries due at `now` (skipping those another worker holds) and lease them for `lease`."""
    d = webhook_deliveries
    due = (
        select(d.c.id)
        .join(webhooks, webhooks.c.id == d.c.webhook_id)
        .where(d.c.next_attempt_at <= now, webhooks.c.active)
        .order_by(d.c.next_attempt_at, d.c.id)
        .limit(limit)
        .with_for_update(of=d, skip_locked=True)
    )
    stmt = (
        update(d)
        .where(
            d.c.id.in_(due.scalar_subquery()), webhooks.c.id == d.c.webhook_id, events.c.id == d.c.event_id
        )
        .values(attempts=d.c.attempts + 1, next_attempt_at=now + lease)
        .returning(
            d.c.id,
            d.c.attempts,
            webhooks.c.url,
            webhooks.c.secret,
            events.c.id.label("event_id"),
            events.c.type,
            events.c.layer_id,
            events.c.at,
            events.c.payload,
        )
    )
    rows = conn.execute(stmt).all()
    return sorted(
        (
            Due(r.id, r.attempts, r.url, r.secret, r.event_id, r.type, r.layer_id, r.at, r.payload)
            for r in rows
        ),
        key=lambda due: due.event_id,
    )


_RECORD = (
    update(webhook_deliveries)
    .where(webhook_deliveries.c.id == bindparam("delivery_id"))
    .values(
        delivered_at=bindparam("delivered_at"),
        next_attempt_at=bindparam("retry_at"),
        last_error=bindparam("error"),
    )
)


def record_outcomes(conn: Connection, outcomes: Sequence[Outcome]) -> None:
    """Store the outcome of delivery attempts: delivered, retry later, or given up."""
    if not outcomes:
        return
    conn.execute(
        _RECORD,
        [
            {
                "delivery_id": o.delivery_id,
                "delivered_at": o.at if o.delivered else None,
                "retry_at": None if o.delivered else o.retry_at,
                "error": None if o.delivered else (o.error or "failed")[:500],
            }
            for o in outcomes
        ],
    )


def recent_deliveries(conn: Connection, principal: Principal, hook_id: int) -> list[dict[str, Any]]:
    """Return the latest deliveries of a webhook, newest first, to see what failed and why."""
    get_webhook(conn, principal, hook_id)
    d = webhook_deliveries
    rows = conn.execute(
        select(d.c.id, d.c.event_id, d.c.attempts, d.c.next_attempt_at, d.c.delivered_at, d.c.last_error)
        .where(d.c.webhook_id == hook_id)
        .order_by(d.c.id.desc())
        .limit(LIST_LIMIT)
    )
    return [
        {
            "id": r.id,
            "event_id": r.event_id,
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
            "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
            "last_error": r.last_error,
        }
        for r in rows
    ]
