"""Retiring cached tiles for committed events: the tiles a status event names, every tile for an edit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from geo.tiles import TileKey, TileSpan
from layers.access.policy import ANONYMOUS, field_view
from layers.catalog import LAYERS
from layers.live.events import Event
from layers.live.retire import retire_tiles
from layers.tiles.cache import MAX_AREAS, TileArea, TileCache

NEAR, FAR = TileKey(16, 56_000, 33_400), TileKey(16, 10, 10)
PARTS = [(LAYERS["cctv"], field_view(ANONYMOUS, LAYERS["cctv"]))]
NAMED = {"keys": [str(NEAR)], "exact_through": 16, "spans": [[16, NEAR.x, NEAR.y, NEAR.x, NEAR.y]]}


def event(type_: str, payload: dict[str, Any], layer_id: str | None = "cctv") -> Event:
    return Event(1, datetime(2025, 3, 1, tzinfo=UTC), type_, layer_id, payload)


def keys(cache: TileCache) -> tuple[object, object]:
    return cache.key(PARTS, NEAR), cache.key(PARTS, FAR)


@pytest.mark.parametrize("type_", ["status", "stale"])
def test_an_asset_event_retires_only_the_tiles_it_names(type_: str) -> None:
    cache = TileCache()
    near, far = keys(cache)
    retire_tiles(event(type_, {"ids": [1], "tiles": NAMED}), cache)
    assert cache.key(PARTS, NEAR) != near and cache.key(PARTS, FAR) == far


@pytest.mark.parametrize(
    ("type_", "payload"),
    [("feature", {"ids": [1]}), ("batch", {"ids": [1, 2], "count": 2}), ("status", {"ids": [1]})],
    ids=["edit", "import", "status-without-tiles"],
)
def test_an_edit_an_import_or_an_event_without_tiles_retires_every_tile_of_its_layer(
    type_: str, payload: dict[str, Any]
) -> None:
    cache = TileCache()
    near, far = keys(cache)
    retire_tiles(event(type_, payload), cache)
    assert cache.key(PARTS, NEAR) != near and cache.key(PARTS, FAR) != far


@pytest.mark.parametrize(
    ("type_", "layer_id"), [("alert", "cctv"), ("status", None), ("feature", "districts")]
)
def test_alerts_and_events_of_other_layers_leave_the_tiles_alone(type_: str, layer_id: str | None) -> None:
    cache = TileCache()
    before = keys(cache)
    retire_tiles(event(type_, {"ids": [1], "tiles": NAMED}, layer_id), cache)
    assert keys(cache) == before


def test_a_retired_tile_never_gets_an_older_key_back_once_areas_fold() -> None:
    cache = TileCache()
    seen = {cache.key(PARTS, NEAR)}
    for n in range(MAX_AREAS + 2):
        cache.retire(
            "cctv", TileArea(frozenset({NEAR}), 16, {16: TileSpan(16, NEAR.x, NEAR.y, NEAR.x, NEAR.y)})
        )
        assert cache.key(PARTS, NEAR) not in seen, n
        seen.add(cache.key(PARTS, NEAR))
