"""Stored layers as collections: features, tiles and exports of the rows kept in PostGIS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from geo.tiles import TileKey
from layers.access.policy import FieldView, Principal, field_view
from layers.catalog.spec import LayerSpec
from layers.collections.base import BBox4326, CollectionInfo, CollectionKind
from layers.collections.members import collection_members
from layers.export.rows import ExportSource, Paging, layer_source
from layers.features.extent import layer_extent
from layers.features.pages import (
    FeatureQuery,
    Page,
    count_matched,
    fetch_feature,
    fetch_page,
    layer_queryables,
)
from layers.features.queryables import Queryable
from layers.features.times import bad_parameter, instant
from layers.tiles.cache import Tile
from layers.tiles.render import render_tile, tile_fields

JSON_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
}


def geometry_schema(info: CollectionInfo) -> dict[str, Any]:
    """Return the JSON Schema property of a collection's primary geometry."""
    return {"format": f"geometry-{info.geometry.value}", "x-ogc-role": "primary-geometry"}


def layer_info(layer: LayerSpec) -> CollectionInfo:
    """Return the collection description of a stored layer."""
    return CollectionInfo(
        id=layer.id,
        kind=CollectionKind.LAYER,
        title=layer.title,
        description=layer.description,
        geometry=layer.geometry,
        owner=layer.owner,
        access=layer.access,
        style=layer.style,
        live=layer.has_status,
        min_zoom=layer.min_zoom,
        max_zoom=layer.max_zoom,
    )


@dataclass(frozen=True, slots=True)
class StoredCollection:
    """A stored layer as one caller sees it."""

    layer: LayerSpec
    view: FieldView
    info: CollectionInfo

    @classmethod
    def of(cls, principal: Principal, layer: LayerSpec) -> StoredCollection:
        """Return the layer as `principal` sees it (they may read it)."""
        return cls(layer, field_view(principal, layer), layer_info(layer))

    def members(self, conn: Connection, lang: str) -> dict[str, Any]:
        """Return the layer's extent, status vocabulary and alarms, and the keys a search matches."""
        extent = layer_extent(conn, self.layer)
        return collection_members(self.layer, lang) | {
            "extent": {
                "spatial": {
                    "bbox": [list(extent.bbox)] if extent.bbox else [[-180, -90, 180, 90]],
                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                },
                "temporal": {"interval": [[extent.first_report, extent.last_report]]},
            }
        }

    def carried(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """Return nothing: a stored layer's links need no parameter of its own."""
        return []

    def bind(
        self, session: Session, values: Mapping[str, str], now: datetime, *, tiles: bool = False
    ) -> BoundLayer:
        """Read `at` (time travel) and `name=value` equality filters; refuse any other name."""
        if tiles:
            return BoundLayer(self, session.connection(), layer_queryables(self.layer, self.view))
        at = instant("at", values["at"]) if "at" in values else None
        qs = layer_queryables(self.layer, self.view, at)
        equals = {name: value for name, value in values.items() if name != "at"}
        allowed = sorted(["at", *(n for n in qs if qs[n].kind != "geometry")])
        for name in equals:
            if name not in qs or qs[name].kind == "geometry":
                raise bad_parameter(
                    name,
                    f"unknown parameter; besides the standard ones it takes {', '.join(allowed)}",
                    f"parameter tidak dikenal; selain yang baku koleksi ini menerima {', '.join(allowed)}",
                )
        return BoundLayer(self, session.connection(), qs, equals, at)


@dataclass(frozen=True, slots=True)
class BoundLayer:
    """A stored layer bound to one request's time travel and equality filters."""

    collection: StoredCollection
    conn: Connection
    queryables: Mapping[str, Queryable]
    equals: Mapping[str, str] = field(default_factory=dict)
    at: datetime | None = None

    @property
    def info(self) -> CollectionInfo:
        """The layer's description."""
        return self.collection.info

    @property
    def carried(self) -> list[tuple[str, str]]:
        """Nothing: a stored layer's tile URLs carry no parameter."""
        return []

    def parameters(self) -> dict[str, Any]:
        """Return the instant of time travel and the equality filters, as read."""
        return ({"at": self.at.isoformat()} if self.at is not None else {}) | dict(self.equals)

    def page(self, q: FeatureQuery) -> tuple[Page, int]:
        """Return a page of features and the exact number matched."""
        layer, view = self.collection.layer, self.collection.view
        return fetch_page(self.conn, layer, view, q), count_matched(self.conn, layer, view, q)

    def page_members(self, q: FeatureQuery, lang: str) -> dict[str, Any]:
        """Return nothing more: a stored layer's page is its features."""
        return {}

    def feature(self, feature_id: int, q: FeatureQuery) -> str | None:
        """Return one feature with its live (or past) status."""
        return fetch_feature(self.conn, self.collection.layer, self.collection.view, feature_id, q)

    def summary(self) -> dict[str, Any] | None:
        """Return None: stored layers have no summary."""
        return None

    def queryable_schemas(self, lang: str) -> dict[str, dict[str, Any]]:
        """Return the layer's queryables as JSON Schema properties."""
        return {
            name: geometry_schema(self.info) if q.kind == "geometry" else dict(JSON_TYPES[q.kind])
            for name, q in self.queryables.items()
        }

    def tile(self, key: TileKey) -> Tile:
        """Return the layer's tile from the shared tile cache when fresh."""
        return render_tile(self.conn, [(self.collection.layer, self.collection.view)], key)

    def tile_fields(self) -> dict[str, str]:
        """Return the attributes the layer's tiles carry for this caller."""
        return tile_fields(self.collection.layer, self.collection.view)

    def bbox(self) -> BBox4326 | None:
        """Return the layer's extent (cached briefly)."""
        return layer_extent(self.conn, self.collection.layer).bbox

    def export(self, q: FeatureQuery, paging: Paging) -> ExportSource:
        """Return the layer's rows as an export source."""
        return layer_source(self.conn, self.collection.layer, self.collection.view, q, paging)
