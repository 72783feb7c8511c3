"""Which collections a caller may see, by id: stored layers first, then query layers, in catalog order."""

from __future__ import annotations

from collections.abc import Sequence

from layers.access.policy import Principal, layer_for, readable_layers
from layers.catalog import LAYERS
from layers.collections.base import Collection
from layers.collections.query import QueryCollection
from layers.collections.stored import StoredCollection
from layers.errors import InvalidInput, LayerNotFound
from layers.queries.access import query_for, readable_queries

MAX_TILE_LAYERS = 16  # collections in one composite tile
MAX_EXPORT_LAYERS = 50  # collections in one multi-layer export


def collection_for(principal: Principal, collection_id: str) -> Collection:
    """Return the collection the caller may see; a missing or hidden one is LayerNotFound alike."""
    if collection_id in LAYERS:
        return StoredCollection.of(principal, layer_for(principal, collection_id))
    spec = query_for(principal, collection_id)
    if spec is None:
        raise LayerNotFound(collection_id)
    return QueryCollection.of(principal, spec)


def readable_collections(principal: Principal) -> list[Collection]:
    """Return every collection the caller may see: stored layers, then query layers."""
    stored: list[Collection] = [StoredCollection.of(principal, layer) for layer in readable_layers(principal)]
    return stored + [QueryCollection.of(principal, spec) for spec in readable_queries(principal)]


def readable_ids(principal: Principal) -> list[str]:
    """Return the ids of every collection the caller may see."""
    return [c.info.id for c in readable_collections(principal)]


def parse_ids(text: str, parameter: str, most: int) -> list[str]:
    """Return the distinct ids of a comma-separated list, bounded in count and length."""
    ids = list(dict.fromkeys(part.strip() for part in text.split(",")))
    if not ids or len(ids) > most or any(not i or len(i) > 64 for i in ids):
        raise InvalidInput(
            f"name 1 to {most} collection ids separated by commas",
            f"sebutkan 1 sampai {most} id koleksi dipisah koma",
            parameter=parameter,
        )
    return ids


def collections_for(principal: Principal, ids: Sequence[str]) -> list[Collection]:
    """Return each named collection the caller may see (any hidden one is LayerNotFound)."""
    return [collection_for(principal, collection_id) for collection_id in ids]
