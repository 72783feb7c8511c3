"""An asset's recent status history (observations), as a caller may see it, for charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, select

from layers.access.policy import FieldView
from layers.catalog.spec import LayerSpec, Storage
from layers.errors import FeatureNotFound, InvalidInput
from layers.tables import assets, observations

MAX_HOURS = 24 * 31
MAX_POINTS = 5000


@dataclass(frozen=True, slots=True)
class History:
    """Observations of one asset in a window, oldest first; `truncated` when only the newest were kept."""

    asset_id: int
    since: datetime
    until: datetime
    unit: str | None
    points: list[dict[str, Any]]
    truncated: bool


def asset_history(
    conn: Connection, layer: LayerSpec, view: FieldView, asset_id: int, until: datetime, hours: int
) -> History:
    """Return the observations of an asset of `layer` in the `hours` before `until`; values per FieldView."""
    if layer.status is None or layer.storage is not Storage.ASSETS:
        raise InvalidInput(
            f"layer {layer.id!r} has no live status history",
            f"lapisan {layer.id!r} tidak memiliki riwayat status",
            layer=layer.id,
        )
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(f"hours must be within 1..{MAX_HOURS}", f"hours harus dalam 1..{MAX_HOURS}")
    found = conn.execute(
        select(exists().where(assets.c.id == asset_id, assets.c.layer_id == layer.id))
    ).scalar_one()
    if not found:
        raise FeatureNotFound(layer.id, asset_id)
    since = until - timedelta(hours=hours)
    o = observations
    rows = conn.execute(
        select(o.c.observed_at, o.c.status, o.c.value)
        .where(o.c.asset_id == asset_id, o.c.observed_at > since, o.c.observed_at <= until)
        .order_by(o.c.observed_at.desc())
        .limit(MAX_POINTS + 1)
    ).all()
    truncated = len(rows) > MAX_POINTS
    points = [
        {
            "time": r.observed_at.isoformat(),
            "status": r.status,
            "value": r.value if view.status_value else None,
        }
        for r in reversed(rows[:MAX_POINTS])
    ]
    unit = layer.status.unit if view.status_value else None
    return History(asset_id, since, until, unit, points, truncated)
