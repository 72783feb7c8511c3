"""The event log behind the live stream: write events in the caller's transaction, read them back by id."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from layers.tables import events

CHANNEL = "kendali_events"
MAX_READ = 1000


@dataclass(frozen=True, slots=True)
class Event:
    """One stored event."""

    id: int
    at: datetime
    type: str  # status | stale | alert | feature | batch
    layer_id: str | None
    payload: Mapping[str, Any]


_recorded: ContextVar[list[Event] | None] = ContextVar("kendali_recorded_events", default=None)


@contextmanager
def recording() -> Iterator[list[Event]]:
    """Collect the events recorded inside the block, so that the caller can act on them once it commits."""
    found: list[Event] = []
    token = _recorded.set(found)
    try:
        yield found
    finally:
        _recorded.reset(token)


def record_event(conn: Connection, type_: str, layer_id: str | None, payload: Mapping[str, Any]) -> int:
    """Store an event and queue a NOTIFY carrying its id (delivered when the caller commits)."""
    stored = dict(payload)
    stmt = insert(events).values(type=type_, layer_id=layer_id, payload=stored)
    row = conn.execute(stmt.returning(events.c.id, events.c.at)).one()
    event_id = int(row.id)
    note = json.dumps({"id": event_id, "type": type_, "layer": layer_id})
    conn.execute(select(func.pg_notify(CHANNEL, note)))
    sink = _recorded.get()
    if sink is not None:
        sink.append(Event(event_id, row.at, type_, layer_id, stored))
    return event_id


def events_after(conn: Connection, last_id: int, limit: int = MAX_READ) -> list[Event]:
    """Return events with an id above `last_id`, oldest first (for resume and for listeners)."""
    rows = conn.execute(
        select(events).where(events.c.id > last_id).order_by(events.c.id).limit(min(limit, MAX_READ))
    )
    return [Event(r.id, r.at, r.type, r.layer_id, r.payload) for r in rows]


def latest_event_id(conn: Connection) -> int:
    """Return the id of the newest event (0 when there is none)."""
    return int(conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())
