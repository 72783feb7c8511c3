"""What status and stale events say: the new state of each asset they name and the tiles they touch,
recorded in the transaction of the change, so that no worker reads asset_status or geometry to forward it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from layers.catalog.spec import LayerSpec
from layers.features.queryables import stale_expression
from layers.live.events import record_event
from layers.tables import asset_status, assets
from layers.tiles.changes import changed_tiles

MAX_DESCRIBED = 1_000  # assets whose state one event carries; beyond that clients get the ids only
ASSET_EVENTS = frozenset({"status", "stale"})


def asset_state(
    asset_id: int,
    status: str | None,
    value: float | None,
    unit: str | None,
    observed_at: datetime | None,
    stale: bool,
) -> dict[str, Any]:
    """Return one asset's live state as events carry it."""
    return {
        "id": int(asset_id),
        "status": status,
        "value": value,
        "unit": unit,
        "observed_at": observed_at.isoformat() if observed_at else None,
        "stale": bool(stale),
    }


def asset_states(conn: Connection, layer: LayerSpec, ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Return the current state of some assets of a live layer, by id (one query)."""
    if layer.status is None or not ids:
        return {}
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
    )
    return {
        int(r.id): asset_state(r.id, r.status, r.value, r.unit, r.observed_at, r.stale)
        for r in conn.execute(stmt)
    }


def record_asset_event(
    conn: Connection,
    type_: str,
    layer: LayerSpec,
    asset_ids: Collection[int],
    states: Mapping[int, Mapping[str, Any]],
) -> int:
    """Record a status or stale event naming these assets, with their states and the tiles they touch.

    Every id is named; the states of the first MAX_DESCRIBED travel with them (`truncated` says when
    more were left out). The tiles are computed now, from the geometry this transaction sees.
    """
    ids = sorted(set(asset_ids))
    payload = {
        "ids": ids,
        "assets": [dict(states[i]) for i in ids[:MAX_DESCRIBED] if i in states],
        "truncated": len(ids) > MAX_DESCRIBED,
        "tiles": changed_tiles(conn, layer, ids).as_json(),
    }
    return record_event(conn, type_, layer.id, payload)
