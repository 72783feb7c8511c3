"""Staleness: announce once each asset whose last report is older than its layer's `stale_after`.

Reads (features, tiles) compute `stale` from `observed_at` at query time; this check only records a
`stale` event per layer for the live stream (with the assets' states and tiles, as status events carry
them), and remembers what it announced in `stale_marks`.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

from sqlalchemy import Connection, bindparam, delete, func, select, text
from sqlalchemy.types import DateTime

from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec, Storage
from layers.live.asset_events import MAX_DESCRIBED, asset_states, record_asset_event
from layers.tables import asset_status, stale_marks

MAX_IDS_PER_EVENT = 5_000
_LOCK = "kendali_stale_check"

_MARK = text(files("layers").joinpath("sql/mark_stale.sql").read_text(encoding="utf-8")).bindparams(
    bindparam("now", type_=DateTime(timezone=True))
)


def live_layers() -> list[LayerSpec]:
    """Return the asset layers that carry live status (the ones that can go stale)."""
    return [s for s in LAYERS.values() if s.status is not None and s.storage is Storage.ASSETS]


def check_staleness(conn: Connection, now: datetime | None = None) -> dict[str, list[int]]:
    """Record a `stale` event per layer for assets that went stale since the last check; return their ids.

    Workers may run this at the same time: a transaction lock serialises them, and the marks make
    the second run find nothing new. An asset that reported again leaves the stale set.
    """
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(_LOCK))))
    specs = live_layers()
    params = {
        "layer_ids": [s.id for s in specs],
        "stale_after": [s.status.stale_after for s in specs if s.status is not None],
        "now": now or conn.execute(select(func.now())).scalar_one(),
    }
    found: dict[str, list[int]] = {}
    for row in conn.execute(_MARK, params):
        found.setdefault(row.layer_id, []).append(int(row.asset_id))
    _forget_fresh(conn)
    for layer_id, ids in found.items():
        for start in range(0, len(ids), MAX_IDS_PER_EVENT):
            chunk = ids[start : start + MAX_IDS_PER_EVENT]
            states = asset_states(conn, LAYERS[layer_id], chunk[:MAX_DESCRIBED])
            record_asset_event(conn, "stale", LAYERS[layer_id], chunk, states)
    return found


def _forget_fresh(conn: Connection) -> None:
    """Drop the marks of assets that reported since they were marked."""
    conn.execute(
        delete(stale_marks).where(
            asset_status.c.asset_id == stale_marks.c.asset_id,
            asset_status.c.observed_at.is_distinct_from(stale_marks.c.observed_at),
        )
    )


def stale_asset_ids(conn: Connection, asset_ids: list[int]) -> set[int]:
    """Return which of `asset_ids` are currently marked stale."""
    rows = conn.execute(select(stale_marks.c.asset_id).where(stale_marks.c.asset_id.in_(asset_ids)))
    return {int(r.asset_id) for r in rows}
