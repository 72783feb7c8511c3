"""Tiles of one or more bound collections: one MVT layer each, joined into one tile."""

from __future__ import annotations

from collections.abc import Sequence

from geo.bbox import union
from geo.tiles import InvalidTile, TileKey, parse_tile
from layers.collections.base import BBox4326, Bound, CollectionInfo
from layers.errors import InvalidInput
from layers.tiles.cache import Tile


def tile_key(infos: Sequence[CollectionInfo], z: str, x: str, y: str) -> TileKey:
    """Return the tile named by path texts, within the collections' highest max zoom, or InvalidInput."""
    try:
        return parse_tile(z, x, y, max(info.max_zoom for info in infos))
    except InvalidTile as exc:
        raise InvalidInput(str(exc), exc.reason_id, parameter="z/x/y") from None


def composite_tile(bounds: Sequence[Bound], key: TileKey) -> Tile:
    """Return the tile of every collection; MVT layers concatenate into one valid tile."""
    tiles = [bound.tile(key) for bound in bounds]
    if len(tiles) == 1:
        return tiles[0]
    return Tile.of(b"".join(t.data for t in tiles), live=any(t.live for t in tiles))


def combined_bbox(bounds: Sequence[Bound]) -> BBox4326 | None:
    """Return the bbox covering every collection whose extent is known, or None."""
    return union(bound.bbox() for bound in bounds)
