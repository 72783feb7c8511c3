"""An in-process tile cache keyed so that no caller gets a tile drawn for a caller who sees more.

A key holds, per layer, the layer id, the caller's FieldView (which attributes they see) and the
layer's change counter; `bump` moves a layer's counter when it changes, so old entries are never hit
again. Entries also expire: soon for live layers (their `stale` flag moves with the clock), late for
static ones. Least recently used entries go first once the byte budget is spent.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from threading import Lock
from typing import TYPE_CHECKING

from geo.tiles import TileKey

if TYPE_CHECKING:
    from layers.access.policy import FieldView
    from layers.catalog.spec import LayerSpec

LIVE_TTL_S = 5.0
STATIC_TTL_S = 300.0
MAX_BYTES = 64 * 1024 * 1024

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


@dataclass(slots=True)
class _Entry:
    tile: Tile
    expires: float


class TileCache:
    """A thread-safe LRU of tiles bounded in bytes, with per-layer change counters."""

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
        self._counters: dict[str, int] = {}
        self._bytes = 0
        self._lock = Lock()

    def key(self, parts: Sequence[tuple[LayerSpec, FieldView]], tile: TileKey) -> CacheKey:
        """Return the cache key of a tile of these layers as seen through these field views."""
        with self._lock:
            layers = tuple((spec.id, view, self._counters.get(spec.id, 0)) for spec, view in parts)
        return layers, tile

    def bump(self, layer_id: str) -> int:
        """Note that a layer changed: its cached tiles are never served again. Return the new counter."""
        with self._lock:
            self._counters[layer_id] = self._counters.get(layer_id, 0) + 1
            return self._counters[layer_id]

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
        """Forget every tile (counters stay)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self._bytes -= len(entry.tile.data)


CACHE = TileCache()


def bump_layer(layer_id: str) -> int:
    """Note that a layer changed (status, geometry or attributes) in the process-wide cache."""
    return CACHE.bump(layer_id)
