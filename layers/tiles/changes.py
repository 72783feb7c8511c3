"""Which tiles a change touches: given changed assets of a layer, the z/x/y keys a map should refresh.

The write path records these in status and stale events; every worker retires exactly those cached
tiles, and maps may refresh them. Keys are exact (each asset's own tiles, buffer included) for as many
zoom levels, lowest first, as fit in a budget; every zoom level also gets a span, one block of tiles
that holds all touched tiles, so a client at any zoom knows what to refresh even when a large change
leaves the exact list short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Connection, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from geo.bbox import BBox
from geo.tiles import TileKey, TileSpan, span_3857
from layers.catalog.spec import LayerSpec
from layers.features.queryables import source_table
from layers.tiles.cache import TileArea

MAX_KEYS = 512  # exact tile keys in one change notice
MAX_IDS = 10_000


@dataclass(frozen=True, slots=True)
class TileChanges:
    """The tiles of one layer that a change touches."""

    layer_id: str
    ids: tuple[int, ...]
    tiles: tuple[TileKey, ...]  # every touched tile at zoom levels up to `exact_through`
    exact_through: int | None  # highest zoom whose tiles are all in `tiles` (None: none listed)
    spans: tuple[TileSpan, ...]  # one block per zoom level holding every touched tile

    def as_json(self) -> dict[str, Any]:
        """Return the touched tiles as plain JSON for an event (its layer and ids are the event's)."""
        return {
            "keys": [str(k) for k in self.tiles],
            "exact_through": self.exact_through,
            "spans": [[s.z, s.min_x, s.min_y, s.max_x, s.max_y] for s in self.spans],
        }

    def area(self) -> TileArea:
        """Return the touched tiles as the tile cache retires them."""
        return TileArea(frozenset(self.tiles), self.exact_through, {s.z: s for s in self.spans})


def area_from_json(value: object) -> TileArea | None:
    """Return the tiles an event's `tiles` member names, or None when it names none that can be read."""
    if not isinstance(value, Mapping):
        return None
    keys, exact, spans = value.get("keys"), value.get("exact_through"), value.get("spans")
    try:
        if not isinstance(keys, list) or not isinstance(spans, list):
            raise TypeError
        tiles = frozenset(TileKey(*(int(p) for p in str(k).split("/", 2))) for k in keys)
        blocks = [TileSpan(*(int(n) for n in s)) for s in spans]
    except (TypeError, ValueError):
        return None
    if exact is not None and (isinstance(exact, bool) or not isinstance(exact, int)):
        return None
    return TileArea(tiles, exact, {s.z: s for s in blocks})


def asset_boxes_3857(conn: Connection, layer: LayerSpec, asset_ids: Iterable[int]) -> list[BBox]:
    """Return the EPSG:3857 bboxes of a layer's assets as stored now (call before a move to keep the old)."""
    ids = sorted(set(asset_ids))[:MAX_IDS]
    if not ids:
        return []
    table = source_table(layer)
    # A lon/lat rectangle stays a rectangle in Web Mercator, so its envelope's corners suffice.
    box = func.ST_Transform(func.ST_Envelope(table.c.geom), 3857)
    rows = conn.execute(
        select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)).where(
            table.c.layer_id == layer.id, table.c.id == func.any(bindparam("ids", ids, ARRAY(BigInteger)))
        )
    )
    return [(float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in rows]


def changed_tiles(
    conn: Connection,
    layer: LayerSpec,
    asset_ids: Iterable[int],
    previous: Sequence[BBox] = (),
    max_keys: int = MAX_KEYS,
) -> TileChanges:
    """Return the tiles the changed assets touch now, and where they were (`previous`, EPSG:3857 boxes)."""
    ids = tuple(sorted(set(asset_ids))[:MAX_IDS])
    boxes = [*asset_boxes_3857(conn, layer, ids), *previous]
    tiles, exact_through, spans = tiles_for_boxes(boxes, layer.min_zoom, layer.max_zoom, max_keys)
    return TileChanges(layer.id, ids, tiles, exact_through, spans)


def tiles_for_boxes(
    boxes_3857: Sequence[BBox], min_zoom: int, max_zoom: int, max_keys: int = MAX_KEYS
) -> tuple[tuple[TileKey, ...], int | None, tuple[TileSpan, ...]]:
    """Return (exact keys, the zoom they are complete through, one span per zoom) for boxes in EPSG:3857."""
    if not boxes_3857:
        return (), None, ()
    union = (
        min(b[0] for b in boxes_3857),
        min(b[1] for b in boxes_3857),
        max(b[2] for b in boxes_3857),
        max(b[3] for b in boxes_3857),
    )
    spans = tuple(span_3857(union, z) for z in range(min_zoom, max_zoom + 1))
    keys: list[TileKey] = []
    exact_through: int | None = None
    for z in range(min_zoom, max_zoom + 1):
        per_box = {span_3857(b, z) for b in boxes_3857}  # assets sharing tiles collapse here
        if len(keys) + sum(s.count for s in per_box) > max_keys * 4:
            break
        level = {k for s in per_box for k in s.keys()}
        if len(keys) + len(level) > max_keys:
            break
        keys += sorted(level)
        exact_through = z
    return tuple(keys), exact_through, spans
