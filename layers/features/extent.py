"""Spatial and temporal extents of layers, cached briefly: they are costly on large layers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from threading import Lock

from sqlalchemy import Connection, func, select

from geo.bbox import union
from layers.catalog.spec import LayerSpec, Storage
from layers.features.queryables import source_table
from layers.tables import asset_status

TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Extent:
    """A layer's bbox in lon/lat and the span of its status reports."""

    bbox: tuple[float, float, float, float] | None
    first_report: str | None
    last_report: str | None


_cache: dict[str, tuple[float, Extent]] = {}
_lock = Lock()


def layer_extent(conn: Connection, layer: LayerSpec) -> Extent:
    """Return the layer's extent, from cache when fresh."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(layer.id)
    if hit is not None and now - hit[0] < TTL_S:
        return hit[1]
    extent = _compute(conn, layer)
    with _lock:
        _cache[layer.id] = (now, extent)
    return extent


def _compute(conn: Connection, layer: LayerSpec) -> Extent:
    table = source_table(layer)
    where = [table.c.layer_id == layer.id]
    if layer.storage is Storage.AREAS:
        where.append(table.c.deleted_at.is_(None))
    box = func.ST_Extent(table.c.geom)
    row = conn.execute(
        select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)).where(*where)
    ).one()
    bbox = None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    first = last = None
    if layer.status is not None:
        span = conn.execute(
            select(func.min(asset_status.c.observed_at), func.max(asset_status.c.observed_at))
            .join(table, table.c.id == asset_status.c.asset_id)
            .where(*where)
        ).one()
        first = None if span[0] is None else span[0].isoformat()
        last = None if span[1] is None else span[1].isoformat()
    return Extent(bbox=bbox, first_report=first, last_report=last)


def forget(layer_id: str) -> None:
    """Drop a cached extent after the layer changed."""
    with _lock:
        _cache.pop(layer_id, None)


def combined_bbox(conn: Connection, layers: Sequence[LayerSpec]) -> tuple[float, float, float, float] | None:
    """Return the bbox covering every given layer's extent, or None when all are empty."""
    return union(layer_extent(conn, layer).bbox for layer in layers)
