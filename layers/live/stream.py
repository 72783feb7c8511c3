"""What the live stream carries: events read back by id, the current status of the assets they name, and
each event shaped for what one caller may see (policy: visible layers, hidden values and properties)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from layers.access.policy import Action, Principal, allows, field_view, layer_for
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec
from layers.features.queryables import stale_expression
from layers.live.events import MAX_READ, Event, events_after
from layers.tables import asset_status, assets
from layers.tiles.cache import bump_layer
from layers.tiles.changes import note_change

MAX_ENRICHED = 1_000  # assets described per event; beyond that clients get the ids only
ASSET_EVENTS = frozenset({"status", "stale"})
VALUE_KEYS = frozenset({"value", "status_value"})


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A stored event with, for status and stale events, the current state of the assets it names."""

    id: int
    type: str
    layer_id: str | None
    at: datetime
    payload: Mapping[str, Any]


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


def asset_states(conn: Connection, layer: LayerSpec, ids: Collection[int]) -> list[dict[str, Any]]:
    """Return the current status, value, unit, observed_at and stale flag of some assets of a live layer."""
    if layer.status is None or not ids:
        return []
    s = asset_status
    wanted = bindparam("ids", sorted(ids), type_=ARRAY(BigInteger))
    stmt = (
        select(
            assets.c.id,
            s.c.status,
            s.c.value,
            s.c.unit,
            s.c.observed_at,
            stale_expression(layer, s.c.observed_at).label("stale"),
        )
        .select_from(assets.outerjoin(s, s.c.asset_id == assets.c.id))
        .where(assets.c.layer_id == layer.id, assets.c.id == any_(wanted))
        .order_by(assets.c.id)
    )
    return [
        {
            "id": int(r.id),
            "status": r.status,
            "value": r.value,
            "unit": r.unit,
            "observed_at": r.observed_at.isoformat() if r.observed_at else None,
            "stale": bool(r.stale),
        }
        for r in conn.execute(stmt)
    ]


def _named(event: Event) -> list[int] | None:
    """Return the asset ids a status or stale event names (at most MAX_ENRICHED), else None."""
    ids = event.payload.get("ids")
    if event.type not in ASSET_EVENTS or event.layer_id not in LAYERS or not isinstance(ids, list):
        return None
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool)][:MAX_ENRICHED]


def enrich(conn: Connection, events: Sequence[Event], *, tiles: bool = False) -> list[LiveEvent]:
    """Return the events, status and stale ones with their assets' current state (one query per layer).

    With `tiles` (the live dispatcher, once per process) each such event also retires this process's
    cached tiles of its layer and names the tiles it touches, so maps refresh exactly those.
    """
    wanted: dict[str, set[int]] = {}
    for event in events:
        named = _named(event)
        if named is not None and event.layer_id is not None:
            wanted.setdefault(event.layer_id, set()).update(named)
    states = {
        layer_id: {a["id"]: a for a in asset_states(conn, LAYERS[layer_id], ids)}
        for layer_id, ids in wanted.items()
    }
    out: list[LiveEvent] = []
    for event in events:
        payload = dict(event.payload)
        named = _named(event)
        if named is not None:
            found = states.get(event.layer_id or "", {})
            payload["assets"] = [found[i] for i in named if i in found]
            payload["truncated"] = len(payload["ids"]) > MAX_ENRICHED
            if tiles and event.layer_id is not None:
                payload["tiles"] = note_change(conn, LAYERS[event.layer_id], named).as_json()["tiles"]
        if tiles and event.type == "feature" and event.layer_id is not None:
            bump_layer(event.layer_id)  # an edit: this process's cached tiles of the layer are stale
        out.append(LiveEvent(event.id, event.type, event.layer_id, event.at, payload))
    return out


def live_events_after(conn: Connection, last_id: int, limit: int) -> list[LiveEvent]:
    """Return up to `limit` enriched events after `last_id`, oldest first (for resume)."""
    found: list[Event] = []
    while len(found) < limit:
        page = events_after(conn, found[-1].id if found else last_id, limit=min(MAX_READ, limit - len(found)))
        if not page:
            break
        found.extend(page)
    return enrich(conn, found)


@dataclass(frozen=True, slots=True)
class StreamView:
    """What one subscriber of the live stream may see."""

    layers: frozenset[str]  # visible to the caller, and asked for
    value_hidden: frozenset[str] = frozenset()  # layers whose status value the caller may not see
    hidden: Mapping[str, frozenset[str]] = field(default_factory=dict)  # hidden property names per layer
    readable: frozenset[str] = frozenset()  # every layer the caller may read (for areas named by alerts)
    everything: bool = False  # layer-less events: only for administrators

    def cut(self, event: LiveEvent) -> frozenset[str] | None:
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


def shaped_json(event: LiveEvent, hidden: frozenset[str]) -> str:
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
