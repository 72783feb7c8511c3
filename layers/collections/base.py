"""What every collection is: a stored layer or a query layer's answer, served by the same paths.

A `Collection` is what a caller may see before any request parameter is read: enough to describe it.
`bind` reads the collection's own parameters (a stored layer's `at` and equality filters, a query
layer's declared parameters) and returns a `Bound` collection that pages, tiles and exports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from geo.kinds import GeometryKind
from geo.tiles import TileKey
from layers.catalog.spec import Access, Style, Titles
from layers.export.rows import ExportSource, Paging
from layers.features.pages import FeatureQuery, Page
from layers.features.queryables import Queryable
from layers.tiles.cache import Tile

BBox4326 = tuple[float, float, float, float]


class CollectionKind(StrEnum):
    """The two kinds of collection."""

    LAYER = "layer"  # rows stored in PostGIS
    QUERY = "query"  # a parametrised question asked of the stored layers


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """What describes a collection whatever its kind."""

    id: str
    kind: CollectionKind
    title: Titles
    description: Titles
    geometry: GeometryKind
    owner: str
    access: Access
    style: Style
    live: bool  # whether its rows carry live status (tiles expire soon)
    min_zoom: int = 0
    max_zoom: int = 22
    has_summary: bool = False
    # The shared feature parameters (bbox, limit, filter...) it reads; the rest are its own.
    feature_parameters: frozenset[str] = frozenset()


class Collection(Protocol):
    """A collection as one caller sees it, before the request's own parameters are read."""

    @property
    def info(self) -> CollectionInfo:
        """Its id, titles, geometry, owner, access and style."""

    def members(self, conn: Connection, lang: str) -> dict[str, Any]:
        """Return the members its description adds to the shared ones (extent, parameters...)."""

    def carried(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """Return those of `values` that are its own parameters, for links that must keep them."""

    def bind(
        self, session: Session, values: Mapping[str, str], now: datetime, *, tiles: bool = False
    ) -> Bound:
        """Read its own parameters from `values` (refusing unknown ones) and return it ready to serve.

        With `tiles`, only what a tile depends on is read: a stored layer's tile ignores other values.
        """


class Bound(Protocol):
    """A collection bound to one request's own parameters: it pages, tiles and exports."""

    @property
    def info(self) -> CollectionInfo:
        """The collection's description."""

    @property
    def queryables(self) -> Mapping[str, Queryable]:
        """The names a client may filter, sort and select on."""

    @property
    def equals(self) -> Mapping[str, str]:
        """Equality filters given as `name=value` parameters."""

    @property
    def at(self) -> datetime | None:
        """The instant of time travel, or None for the live state."""

    @property
    def carried(self) -> list[tuple[str, str]]:
        """Its own parameters as given, for links and tile URLs that must keep them."""

    def parameters(self) -> dict[str, Any]:
        """Return its own parameters as it read them, as JSON values."""

    def page(self, q: FeatureQuery) -> tuple[Page, int]:
        """Return one page of features and how many match in all."""

    def page_members(self, q: FeatureQuery, lang: str) -> dict[str, Any]:
        """Return what a page adds beside its features (a query's parameters and summary)."""

    def feature(self, feature_id: int, q: FeatureQuery) -> str | None:
        """Return one feature as GeoJSON text, or None."""

    def summary(self) -> dict[str, Any] | None:
        """Return the summary of the whole answer, or None when the collection has none."""

    def queryable_schemas(self, lang: str) -> dict[str, dict[str, Any]]:
        """Return each queryable as a JSON Schema property (titles in `lang`)."""

    def tile(self, key: TileKey) -> Tile:
        """Return its vector tile (one MVT layer named by its id)."""

    def tile_fields(self) -> dict[str, str]:
        """Return the attributes its tiles carry, with TileJSON field types."""

    def bbox(self) -> BBox4326 | None:
        """Return its extent in lon/lat, when it is cheap to know."""

    def export(self, q: FeatureQuery, paging: Paging) -> ExportSource:
        """Return its rows as an export source, filtered like its items."""
