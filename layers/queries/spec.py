"""What a query layer is: a question asked of the stored layers, declared once with typed parameters.

A query layer answers with rows shaped like a layer's features (an `id`, a `geom` in EPSG:4326 and
typed columns), so the features, tiles and export paths serve it like any stored layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Select

from geo.kinds import GeometryKind
from layers.access.policy import Principal
from layers.catalog.spec import Access, Style, Titles

KINDS = frozenset({"string", "number", "integer", "boolean", "datetime"})


@dataclass(frozen=True, slots=True)
class QueryColumn:
    """One attribute of a query layer's answer."""

    name: str
    kind: str  # string | number | integer | boolean | datetime
    title: Titles
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True, slots=True)
class QueryContext:
    """What a query is run with: an open connection (inside the request's transaction), the caller, now."""

    conn: Connection
    principal: Principal
    now: datetime


@dataclass(frozen=True, slots=True)
class QueryAnswer:
    """A built query: its statement and the columns it returns besides `id` and `geom`.

    `statement` selects `id` (bigint, unique and stable for the same data and parameters), `geom`
    (EPSG:4326) and then one column per entry of `columns`, labelled with its name.
    """

    statement: Select[Any]
    columns: tuple[QueryColumn, ...]


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """One query layer of the catalog."""

    id: str
    title: Titles
    description: Titles
    owner: str  # agency code
    geometry: GeometryKind
    params: type[BaseModel]  # typed, bounded parameters; see layers.queries.params
    build: Callable[[QueryContext, Any], QueryAnswer]
    style: Style
    access: Access = Access.INTERNAL
    readers: frozenset[str] = frozenset()  # roles that may run a RESTRICTED query
    style_attribute: str | None = None  # the column the style's colours are keyed by
    labels: Mapping[str, Titles] = field(default_factory=dict)  # of style_attribute's values
    time_limit_s: float = 10.0
    # Optional summary of an answer (for example counts per layer), served beside the features.
    summary: Callable[[QueryContext, Any], dict[str, Any]] | None = None
    # Layer ids the caller may not see, left out of every description of this query made for them.
    withheld: frozenset[str] = frozenset()
