"""Query layers as collections: each request runs the question once, then pages, tiles and exports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from geo.tiles import TileKey
from layers.access.policy import Principal
from layers.collections.base import BBox4326, CollectionInfo, CollectionKind
from layers.collections.query_export import answer_source
from layers.collections.stored import JSON_TYPES, geometry_schema
from layers.export.rows import ExportSource, Paging
from layers.features.pages import FeatureQuery, Page
from layers.features.queryables import Queryable
from layers.queries.params import describe_params
from layers.queries.serve import (
    Answer,
    answer_queryables,
    fetch_feature,
    fetch_page,
    fetch_tile,
    limit_time,
    run_query,
    tile_fields,
)
from layers.queries.spec import QueryContext, QuerySpec
from layers.tiles.cache import Tile


def query_info(spec: QuerySpec) -> CollectionInfo:
    """Return the collection description of a query layer."""
    return CollectionInfo(
        id=spec.id,
        kind=CollectionKind.QUERY,
        title=spec.title,
        description=spec.description,
        geometry=spec.geometry,
        owner=spec.owner,
        access=spec.access,
        style=spec.style,
        live=True,
        has_summary=spec.summary is not None,
    )


@dataclass(frozen=True, slots=True)
class QueryCollection:
    """A query layer as one caller (who may run it) sees it."""

    spec: QuerySpec
    principal: Principal
    info: CollectionInfo

    @classmethod
    def of(cls, principal: Principal, spec: QuerySpec) -> QueryCollection:
        """Return the query layer for `principal` (they may run it)."""
        return cls(spec, principal, query_info(spec))

    def members(self, conn: Connection, lang: str) -> dict[str, Any]:
        """Return the query's parameters (JSON Schema), style keys and time limit."""
        spec = self.spec
        return {
            "kendali:styleAttribute": spec.style_attribute,
            "kendali:labels": {value: title.pick(lang) for value, title in spec.labels.items()},
            "kendali:parameters": describe_params(spec.params, lang, spec.withheld),
            "kendali:timeLimitSeconds": spec.time_limit_s,
        }

    def carried(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """Return the given values that are parameters of this query."""
        return [(k, v) for k, v in values.items() if k in self.spec.params.model_fields]

    def bind(
        self, session: Session, values: Mapping[str, str], now: datetime, *, tiles: bool = False
    ) -> BoundAnswer:
        """Validate the parameters, build the answer, and bound what follows by the query's time limit."""
        ctx = QueryContext(session.connection(), self.principal, now)
        answer = run_query(ctx, self.spec, values)
        session.commit()  # keep what building cached (flood zones), even on a read
        conn = session.connection()
        limit_time(conn, answer)
        return BoundAnswer(self, answer, QueryContext(conn, self.principal, now), self.carried(values))


def _json_value(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return value.wkt
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True, slots=True)
class BoundAnswer:
    """A query layer run with one request's parameters."""

    collection: QueryCollection
    answer: Answer
    ctx: QueryContext
    carried: list[tuple[str, str]]

    @property
    def info(self) -> CollectionInfo:
        """The query layer's description."""
        return self.collection.info

    @property
    def queryables(self) -> Mapping[str, Queryable]:
        """The answer's columns and geometry."""
        return answer_queryables(self.answer)

    @property
    def equals(self) -> Mapping[str, str]:
        """None: every other parameter is a parameter of the query."""
        return {}

    @property
    def at(self) -> datetime | None:
        """None: a query that looks back in time declares its own parameter."""
        return None

    def parameters(self) -> dict[str, Any]:
        """Return the parameters the answer was computed with, as JSON values; a default naming layers the
        caller may not see was run without them, and is shown without them."""
        withheld = self.collection.spec.withheld
        out = {name: _json_value(v) for name, v in self.answer.params.model_dump().items()}
        return {k: [x for x in v if x not in withheld] if isinstance(v, list) else v for k, v in out.items()}

    def page(self, q: FeatureQuery) -> tuple[Page, int]:
        """Return a page of the answer and how many of its features match, from one run."""
        return fetch_page(self.ctx.conn, self.answer, q)

    def page_members(self, q: FeatureQuery, lang: str) -> dict[str, Any]:
        """Return the parameters, the column titles, and the summary on the first page only."""
        out: dict[str, Any] = {
            "kendali:parameters": self.parameters(),
            "kendali:columns": {
                c.name: {"title": c.title.pick(lang), "unit": c.unit} for c in self.answer.columns
            },
        }
        first_page = q.after_id is None and q.before_id is None and q.offset == 0
        if first_page and self.collection.spec.summary is not None:  # later pages skip the re-count
            out["kendali:summary"] = self.summary()
        return out

    def feature(self, feature_id: int, q: FeatureQuery) -> str | None:
        """Return one feature of the answer (ids are stable for the same data and parameters)."""
        return fetch_feature(self.ctx.conn, self.answer, feature_id, q)

    def summary(self) -> dict[str, Any] | None:
        """Return the query's summary of its answer, or None when it declares none."""
        summarise = self.collection.spec.summary
        return None if summarise is None else summarise(self.ctx, self.answer.params)

    def queryable_schemas(self, lang: str) -> dict[str, dict[str, Any]]:
        """Return the answer's columns (titles, units) and geometry as JSON Schema properties."""
        props: dict[str, dict[str, Any]] = {
            c.name: dict(
                JSON_TYPES[c.kind], title=c.title.pick(lang), **({"x-unit": c.unit} if c.unit else {})
            )
            for c in self.answer.columns
        }
        props["geometry"] = geometry_schema(self.info)
        return props

    def tile(self, key: TileKey) -> Tile:
        """Return the answer's tile (not cached: the answer depends on the parameters and the moment)."""
        return Tile.of(fetch_tile(self.ctx.conn, self.answer, key), live=True)

    def tile_fields(self) -> dict[str, str]:
        """Return the answer's columns with TileJSON field types."""
        return tile_fields(self.answer)

    def bbox(self) -> BBox4326 | None:
        """Return None: an answer's extent would cost the whole answer."""
        return None

    def export(self, q: FeatureQuery, paging: Paging) -> ExportSource:
        """Return the answer as an export source, under the query's time limit."""
        return answer_source(self.answer, q, paging)
