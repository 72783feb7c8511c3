"""What a layer is: one frozen declaration that routes, tiles, ingest, exports and the legend read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from geo.kinds import GeometryKind


class Access(StrEnum):
    """Who may read a layer at all."""

    PUBLIC = "public"  # anyone, anonymous included
    INTERNAL = "internal"  # any signed-in staff of any agency
    RESTRICTED = "restricted"  # only the roles the layer names


class Storage(StrEnum):
    """Which table holds a layer's features."""

    ASSETS = "assets"  # devices and places with live status, and reference geometry
    AREAS = "areas"  # polygons people draw; versioned and soft-deleted


@dataclass(frozen=True, slots=True)
class Titles:
    """A user-facing text in Indonesian (default) and English."""

    id: str
    en: str

    def pick(self, lang: str) -> str:
        """Return the text in `lang`, falling back to Indonesian."""
        return self.en if lang == "en" else self.id


@dataclass(frozen=True, slots=True)
class Visible:
    """Annotated marker: an attribute only some roles may see.

    `to="internal"` means any signed-in staff; `roles` names exact roles.
    """

    to: str = "internal"
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StatusSpec:
    """The live status vocabulary of a layer and the meaning of its numeric value."""

    values: tuple[str, ...]
    labels: Mapping[str, Titles]
    value_label: Titles | None = None
    unit: str | None = None
    value_range: tuple[float, float] | None = None
    value_visible: Visible | None = None  # None: whoever sees the layer sees the value
    # How often a healthy asset reports; an asset silent for `stale_after` reads as stale.
    report_every: timedelta = timedelta(minutes=5)
    stale_after: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Style:
    """Default map style: one colour per status, or a single colour for layers without status."""

    color: str
    by_status: Mapping[str, str] = field(default_factory=dict)
    stale_color: str = "#9e9e9e"
    fill_opacity: float = 0.25
    line_width: float = 1.5
    radius: float = 5.0

    def as_json(self) -> dict[str, Any]:
        """Return the style as plain JSON for the `layers` table and the front end."""
        return {
            "color": self.color,
            "by_status": dict(self.by_status),
            "stale_color": self.stale_color,
            "fill_opacity": self.fill_opacity,
            "line_width": self.line_width,
            "radius": self.radius,
        }


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One layer of the catalog; adding an asset kind is writing one of these."""

    id: str
    title: Titles
    description: Titles
    geometry: GeometryKind
    owner: str  # agency code
    access: Access
    properties: type[BaseModel]
    style: Style
    status: StatusSpec | None = None
    storage: Storage = Storage.ASSETS
    readers: frozenset[str] = frozenset()  # roles that may read a RESTRICTED layer
    editors: frozenset[str] = frozenset()  # roles that may create/change features
    min_zoom: int = 0
    max_zoom: int = 22
    # Derived polygon stored beside the geometry (a camera's field of view), computed on write.
    footprint: Callable[[Any, BaseModel], Any] | None = None

    @property
    def has_status(self) -> bool:
        """Return whether the layer carries live status."""
        return self.status is not None
