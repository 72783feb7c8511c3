"""Retiring cached tiles: the explicit step after a change commits, taken by every worker's event hub for
each committed event, and by the process that wrote it as soon as it has committed."""

from __future__ import annotations

from collections.abc import Iterable

from layers.live.asset_events import ASSET_EVENTS
from layers.live.events import Event
from layers.tiles.cache import CACHE, TileCache
from layers.tiles.changes import area_from_json

FEATURE_EVENTS = frozenset({"feature", "batch"})


def retire_tiles(event: Event, cache: TileCache = CACHE) -> None:
    """Retire the cached tiles a committed event changed: those it names, else all of its layer's.

    Status and stale events name their tiles; edits and imports may move or reshape features, so
    they retire every tile of the layer.
    """
    if event.layer_id is None:
        return
    if event.type in ASSET_EVENTS:
        cache.retire(event.layer_id, area_from_json(event.payload.get("tiles")))
    elif event.type in FEATURE_EVENTS:
        cache.retire(event.layer_id)


def retire_committed(events: Iterable[Event], cache: TileCache = CACHE) -> None:
    """Retire the tiles of events this process has just committed (before its hub hears of them)."""
    for event in events:
        retire_tiles(event, cache)
