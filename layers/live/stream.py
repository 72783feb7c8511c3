"""What the live stream carries: events read back by id, as the write path recorded them (status and
stale events with their assets' states and tiles), each shaped for what one caller may see (policy:
visible layers, hidden values and properties)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from layers.access.policy import Action, Principal, allows, field_view, layer_for
from layers.catalog import LAYERS
from layers.live.events import MAX_READ, Event, events_after

VALUE_KEYS = frozenset({"value", "status_value"})


def events_by_ids(conn: Connection, ids: Iterable[int]) -> list[Event]:
    """Return the committed events with these ids, oldest first (ids come from notifications)."""
    wanted = sorted(set(ids))
    found: list[Event] = []
    i = 0
    while i < len(wanted):
        page = events_after(conn, wanted[i] - 1, limit=min(MAX_READ, wanted[-1] - wanted[i] + 1))
        if not page:
            break
        hits = {e.id: e for e in page}
        while i < len(wanted) and wanted[i] <= page[-1].id:
            if wanted[i] in hits:
                found.append(hits[wanted[i]])
            i += 1
    return found


def live_events_after(conn: Connection, last_id: int, limit: int) -> list[Event]:
    """Return up to `limit` events after `last_id`, oldest first (for resume)."""
    found: list[Event] = []
    while len(found) < limit:
        page = events_after(conn, found[-1].id if found else last_id, limit=min(MAX_READ, limit - len(found)))
        if not page:
            break
        found.extend(page)
    return found


@dataclass(frozen=True, slots=True)
class StreamView:
    """What one subscriber of the live stream may see."""

    layers: frozenset[str]  # visible to the caller, and asked for
    value_hidden: frozenset[str] = frozenset()  # layers whose status value the caller may not see
    hidden: Mapping[str, frozenset[str]] = field(default_factory=dict)  # hidden property names per layer
    readable: frozenset[str] = frozenset()  # every layer the caller may read (for areas named by alerts)
    everything: bool = False  # layer-less events: only for administrators

    def cut(self, event: Event) -> frozenset[str] | None:
        """Return the payload keys this view hides from `event`, or None when the whole event is hidden."""
        if event.layer_id is None:
            return frozenset() if self.everything else None
        if event.layer_id not in self.layers:
            return None
        area_layer = event.payload.get("area_layer")
        if isinstance(area_layer, str) and area_layer not in self.readable:
            return None
        hidden = self.hidden.get(event.layer_id, frozenset())
        return hidden | VALUE_KEYS if event.layer_id in self.value_hidden else hidden


def stream_view(principal: Principal, wanted: Sequence[str] | None = None) -> StreamView:
    """Return the caller's view of the stream, narrowed to `wanted` layers (hidden ones are LayerNotFound)."""
    readable = [s for s in LAYERS.values() if allows(principal, Action.READ, s)]
    chosen = readable if wanted is None else [layer_for(principal, layer_id) for layer_id in wanted]
    views = {s.id: field_view(principal, s) for s in chosen}
    return StreamView(
        layers=frozenset(views),
        value_hidden=frozenset(i for i, v in views.items() if not v.status_value),
        hidden={i: frozenset(v.hidden) for i, v in views.items() if v.hidden},
        readable=frozenset(s.id for s in readable),
        everything=principal.is_admin,
    )


def shaped_json(event: Event, hidden: frozenset[str]) -> str:
    """Return an event as the SSE data line's JSON, without the payload keys in `hidden`."""
    body = {
        "id": event.id,
        "type": event.type,
        "layer": event.layer_id,
        "at": event.at.isoformat(),
        "payload": _without(event.payload, hidden) if hidden else event.payload,
    }
    return json.dumps(body, separators=(",", ":"), default=str)


def _without(value: Any, hidden: frozenset[str]) -> Any:
    """Return `value` with every object key in `hidden` removed, at any depth."""
    if isinstance(value, Mapping):
        return {k: _without(v, hidden) for k, v in value.items() if k not in hidden}
    if isinstance(value, list):
        return [_without(v, hidden) for v in value]
    return value
