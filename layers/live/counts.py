"""How many features of a layer are in each live status (stale ones apart), for legends and KPIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

from geo.bbox import BBox
from layers.catalog.spec import LayerSpec, Storage
from layers.features.bbox_filter import in_bbox
from layers.features.queryables import source_table, stale_expression
from layers.tables import asset_status


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Counts of one layer: fresh features per status, stale ones (no recent report), and the total."""

    total: int
    statuses: dict[str, int] = field(default_factory=dict)
    stale: int = 0

    def as_json(self) -> dict[str, Any]:
        """Return the counts as plain JSON."""
        return {"total": self.total, "statuses": self.statuses, "stale": self.stale}


def _conditions(
    layer: LayerSpec, bbox: BBox | None, where: Sequence[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    table = source_table(layer)
    out: list[ColumnElement[bool]] = [table.c.layer_id == layer.id, *where]
    if layer.storage is Storage.AREAS:
        out.append(table.c.deleted_at.is_(None))
    if bbox is not None:
        out.append(in_bbox(layer.geometry, table.c.geom, bbox))
    return out


def status_counts(
    conn: Connection, layer: LayerSpec, bbox: BBox | None = None, where: Sequence[ColumnElement[bool]] = ()
) -> StatusCounts:
    """Count a layer's features per live status; `where` holds conditions on its queryables (e.g. CQL2)."""
    table = source_table(layer)
    conditions = _conditions(layer, bbox, where)
    if layer.status is None:
        total = conn.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()
        return StatusCounts(total=int(total))
    stale = stale_expression(layer, asset_status.c.observed_at).label("stale")
    stmt = (
        select(asset_status.c.status, stale, func.count().label("n"))
        .select_from(table.outerjoin(asset_status, asset_status.c.asset_id == table.c.id))
        .where(*conditions)
        .group_by(asset_status.c.status, stale)
    )
    statuses = dict.fromkeys(layer.status.values, 0)
    total = stale_count = 0
    for row in conn.execute(stmt):
        total += row.n
        if row.stale or row.status is None:
            stale_count += row.n
        else:
            statuses[row.status] = statuses.get(row.status, 0) + row.n
    return StatusCounts(total=total, statuses=statuses, stale=stale_count)
