"""Announcing alert changes: one `alert` event per change on the live stream, and webhook deliveries."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Text, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from layers.alerts.tables import alerts
from layers.alerts.webhooks import enqueue_deliveries
from layers.live.events import CHANNEL
from layers.tables import areas, events

AlertState = Literal["opened", "acknowledged", "resolved"]

# What an INSERT/UPDATE of alerts returns to build an AlertChange; the area's layer lets streams hide
# alerts about areas a caller may not see.
RETURNED: tuple[ColumnElement[Any], ...] = (
    alerts.c.id,
    alerts.c.rule_id,
    alerts.c.asset_id,
    alerts.c.layer_id,
    alerts.c.area_id,
    select(areas.c.layer_id)
    .where(areas.c.id == alerts.c.area_id)
    .correlate(alerts)
    .scalar_subquery()
    .label("area_layer"),
    alerts.c.severity,
    alerts.c.status,
    alerts.c.message,
)


@dataclass(frozen=True, slots=True)
class AlertChange:
    """An alert that was opened, acknowledged or resolved."""

    alert_id: int
    rule_id: str
    asset_id: int
    layer_id: str
    area_id: int | None
    area_layer: str | None
    state: AlertState
    severity: str
    status: str
    message: Mapping[str, str]

    def payload(self) -> dict[str, Any]:
        """Return the event payload the live stream and webhooks carry."""
        return {
            "alert_id": self.alert_id,
            "rule": self.rule_id,
            "asset_id": self.asset_id,
            "area_id": self.area_id,
            "area_layer": self.area_layer,
            "state": self.state,
            "severity": self.severity,
            "status": self.status,
            "message_id": self.message.get("id", ""),
            "message_en": self.message.get("en", ""),
        }


def change_from(row: Any, state: AlertState) -> AlertChange:
    """Return the change for a row holding the RETURNED columns."""
    return AlertChange(
        alert_id=row.id,
        rule_id=row.rule_id,
        asset_id=row.asset_id,
        layer_id=row.layer_id,
        area_id=row.area_id,
        area_layer=row.area_layer,
        state=state,
        severity=row.severity,
        status=row.status,
        message=row.message,
    )


def record_alert_events(conn: Connection, changes: Sequence[AlertChange]) -> list[int]:
    """Store one `alert` event per change and queue their NOTIFYs, in two statements whatever the count.

    Mirrors layers.live.events.record_event (same row, same note) for batches: an outage that silences
    thousands of assets at once must not cost two round trips per alert.
    """
    if not changes:
        return []
    rows = [{"type": "alert", "layer_id": c.layer_id, "payload": c.payload()} for c in changes]
    stmt = insert(events).returning(events.c.id, sort_by_parameter_order=True)
    ids = [int(i) for i in conn.execute(stmt, rows).scalars()]
    notes = [
        json.dumps({"id": i, "type": "alert", "layer": c.layer_id}) for i, c in zip(ids, changes, strict=True)
    ]
    note = func.unnest(literal(notes, ARRAY(Text))).column_valued("note")
    conn.execute(select(func.pg_notify(CHANNEL, note)))
    return ids


def announce(conn: Connection, changes: Sequence[AlertChange]) -> list[int]:
    """Record one `alert` event per change (NOTIFY on commit) and queue it for matching webhooks."""
    event_ids = record_alert_events(conn, changes)
    enqueue_deliveries(
        conn,
        [(eid, c.layer_id, c.area_layer, c.severity) for eid, c in zip(event_ids, changes, strict=True)],
    )
    return event_ids


def resolve_open(conn: Connection, where: Iterable[ColumnElement[bool]], now: datetime) -> list[AlertChange]:
    """Resolve the open alerts matching `where` and announce each; return the changes."""
    stmt = (
        update(alerts)
        .where(alerts.c.resolved_at.is_(None), *where)
        .values(resolved_at=now)
        .returning(*RETURNED)
    )
    changes = [change_from(row, "resolved") for row in conn.execute(stmt)]
    announce(conn, changes)
    return changes
