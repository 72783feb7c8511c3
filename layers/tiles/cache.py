"""An in-process tile cache keyed so that no caller gets a tile drawn for a caller who sees more.

A key holds, per layer, the layer id, the caller's FieldView (which attributes they see) and the
generation of that tile of that layer. `retire` starts a new generation for the tiles a change touches
(a TileArea), or for every tile of the layer, so old entries are never hit again; a key is taken before
its tile is drawn, so a tile drawn while a change commits is never served after it. Entries also
expire: soon for live layers (their `stale` flag moves with the clock), late for static ones. Least
recently used entries go first once the byte budget is spent.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING

from geo.tiles import TileKey, TileSpan

if TYPE_CHECKING:
    from layers.access.policy import FieldView
    from layers.catalog.spec import LayerSpec

LIVE_TTL_S = 5.0
STATIC_TTL_S = 300.0
MAX_BYTES = 64 * 1024 * 1024
MAX_AREAS = 64  # partial retirements remembered per layer; older ones fold into the layer's generation

CacheKey = tuple[tuple[tuple[str, "FieldView", int], ...], TileKey]


@dataclass(slots=True)
class Tile:
    """Tile bytes (possibly empty), their strong entity tag, and whether a live layer is in it."""

    data: bytes
    etag: str
    live: bool
    _gzip: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(cls, data: bytes, live: bool) -> Tile:
        """Return a tile whose entity tag is a hash of its bytes."""
        return cls(data, hashlib.blake2b(data, digest_size=16).hexdigest(), live)

    def gzipped(self) -> bytes:
        """Return the bytes gzip-compressed, computed once."""
        if self._gzip is None:
            self._gzip = gzip.compress(self.data, compresslevel=6, mtime=0)
        return self._gzip


@dataclass(frozen=True, slots=True)
class TileArea:
    """The tiles a change touches: every one through zoom `exact_through`, one span per zoom above."""

    keys: frozenset[TileKey]
    exact_through: int | None
    spans: Mapping[int, TileSpan]

    def covers(self, tile: TileKey) -> bool:
        """Return whether the change touches `tile` (a zoom the area does not describe counts as touched)."""
        if self.exact_through is not None and tile.z <= self.exact_through:
            return tile in self.keys
        span = self.spans.get(tile.z)
        return span is None or (span.min_x <= tile.x <= span.max_x and span.min_y <= tile.y <= span.max_y)


@dataclass(slots=True)
class _Entry:
    tile: Tile
    expires: float


class TileCache:
    """A thread-safe LRU of tiles bounded in bytes, with per-layer and per-tile generations."""

    def __init__(
        self,
        max_bytes: int = MAX_BYTES,
        live_ttl_s: float = LIVE_TTL_S,
        static_ttl_s: float = STATIC_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.live_ttl_s = live_ttl_s
        self.static_ttl_s = static_ttl_s
        self._clock = clock
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._generation = 0  # one sequence for all layers, so generations only grow
        self._layers: dict[str, int] = {}  # the generation of every tile of a layer
        self._areas: dict[str, deque[tuple[int, TileArea]]] = {}  # newer generations of some tiles
        self._bytes = 0
        self._lock = Lock()

    def key(self, parts: Sequence[tuple[LayerSpec, FieldView]], tile: TileKey) -> CacheKey:
        """Return the cache key of a tile of these layers as seen through these field views."""
        with self._lock:
            layers = tuple((spec.id, view, self._tile_generation(spec.id, tile)) for spec, view in parts)
        return layers, tile

    def retire(self, layer_id: str, area: TileArea | None = None) -> int:
        """Note that a layer changed in `area` (None: anywhere): those cached tiles are never served again.

        Return the new generation.
        """
        with self._lock:
            self._generation += 1
            areas = self._areas.setdefault(layer_id, deque())
            if area is None:
                self._layers[layer_id] = self._generation
                areas.clear()
            else:
                areas.append((self._generation, area))
                if len(areas) > MAX_AREAS:  # the oldest area's tiles, and all others, move on with it
                    self._layers[layer_id] = areas.popleft()[0]
            return self._generation

    def bump(self, layer_id: str) -> int:
        """Note that a layer changed anywhere: its cached tiles are never served again."""
        return self.retire(layer_id)

    def _tile_generation(self, layer_id: str, tile: TileKey) -> int:
        for generation, area in reversed(self._areas.get(layer_id, ())):
            if area.covers(tile):
                return generation
        return self._layers.get(layer_id, 0)

    def get(self, key: CacheKey) -> Tile | None:
        """Return a fresh cached tile, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry.tile

    def put(self, key: CacheKey, tile: Tile) -> None:
        """Store a tile; live tiles expire sooner than static ones."""
        size = len(tile.data)
        if size > self.max_bytes // 8:
            return
        ttl = self.live_ttl_s if tile.live else self.static_ttl_s
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = _Entry(tile, self._clock() + ttl)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        """Forget every tile (generations stay)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self._bytes -= len(entry.tile.data)


CACHE = TileCache()
