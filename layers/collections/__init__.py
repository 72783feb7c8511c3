"""Collections: stored layers and query layers as two kinds of one interface, served by the same paths."""

from layers.collections.base import Bound, Collection, CollectionInfo, CollectionKind
from layers.collections.registry import (
    MAX_EXPORT_LAYERS,
    MAX_TILE_LAYERS,
    collection_for,
    collections_for,
    parse_ids,
    readable_collections,
    readable_ids,
)
from layers.collections.tiles import combined_bbox, composite_tile, tile_key

__all__ = [
    "MAX_EXPORT_LAYERS",
    "MAX_TILE_LAYERS",
    "Bound",
    "Collection",
    "CollectionInfo",
    "CollectionKind",
    "collection_for",
    "collections_for",
    "combined_bbox",
    "composite_tile",
    "parse_ids",
    "readable_collections",
    "readable_ids",
    "tile_key",
]
