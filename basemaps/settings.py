"""Basemap settings (KENDALI_BASEMAPS_*): the configured basemap sources and the offline basemap's look."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OFFLINE_ID = "offline"
HEX_COLOR = r"^#[0-9a-fA-F]{6}$"
SLUG = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_XYZ_TEMPLATE = re.compile(r"^https?://[^\s]+$")


class SourceKind(StrEnum):
    """Where a basemap's tiles come from."""

    OFFLINE = "offline"  # built in: drawn from the city's own layers, needs no internet
    XYZ = "xyz"  # an online tile server; the browser fetches it directly
    MBTILES = "mbtiles"  # a local SQLite tile archive served by kendali
    PMTILES = "pmtiles"  # a local PMTiles archive served by kendali


class BasemapSource(BaseModel):
    """One configured basemap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG)
    kind: SourceKind
    title_id: str = Field(min_length=1, max_length=100)
    title_en: str = Field(min_length=1, max_length=100)
    url: str | None = Field(None, max_length=500, description="XYZ template with {z}, {x} and {y}")
    path: Path | None = Field(None, description="MBTiles or PMTiles file on this machine")
    attribution: str = Field("", max_length=500)
    min_zoom: int = Field(0, ge=0, le=24)
    max_zoom: int = Field(19, ge=0, le=24)
    tile_size: int = Field(256, ge=64, le=1024)

    @property
    def online(self) -> bool:
        """Return whether the browser needs the internet to draw this basemap."""
        return self.kind is SourceKind.XYZ

    def title(self, lang: str) -> str:
        """Return the title in `lang` (Indonesian unless "en")."""
        return self.title_en if lang == "en" else self.title_id

    @model_validator(mode="after")
    def _check_kind_fields(self) -> Self:
        if self.kind is SourceKind.XYZ:
            if self.url is None or not _XYZ_TEMPLATE.match(self.url):
                raise ValueError("an xyz basemap needs an http(s) url")
            if not all(part in self.url for part in ("{z}", "{x}", "{y}")):
                raise ValueError("an xyz url needs {z}, {x} and {y}")
        if self.kind in (SourceKind.MBTILES, SourceKind.PMTILES) and self.path is None:
            raise ValueError(f"a {self.kind.value} basemap needs a path")
        if self.min_zoom > self.max_zoom:
            raise ValueError("min_zoom is above max_zoom")
        return self


OSM = BasemapSource(
    id="osm",
    kind=SourceKind.XYZ,
    title_id="OpenStreetMap (perlu internet)",
    title_en="OpenStreetMap (needs internet)",
    url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    attribution="© OpenStreetMap contributors",
    max_zoom=19,
)

OFFLINE = BasemapSource(
    id=OFFLINE_ID,
    kind=SourceKind.OFFLINE,
    title_id="Peta dasar luring (data kota sendiri)",
    title_en="Offline basemap (the city's own data)",
    attribution="kendali; coast © OpenStreetMap contributors (ODbL)",
    max_zoom=22,
)


class OfflineLook(BaseModel):
    """What the built-in offline basemap draws, and in which colours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    water_color: str = Field("#aad3df", pattern=HEX_COLOR)
    land_color: str = Field("#f2efe9", pattern=HEX_COLOR)
    coast_color: str = Field("#8fb8c9", pattern=HEX_COLOR)
    district_color: str = Field("#8d6e63", pattern=HEX_COLOR)
    river_color: str = Field("#4a90c2", pattern=HEX_COLOR)
    hillshade_opacity: float = Field(0.5, ge=0, le=1)
    hillshade_raster: str | None = Field("dem", pattern=SLUG, description="raster id; None: no hillshade")
    district_layer: str | None = Field("districts", pattern=SLUG)
    river_layer: str | None = Field("rivers", pattern=SLUG)


class BasemapSettings(BaseSettings):
    """The basemap sources (the built-in offline one is always there) and the land polygon."""

    model_config = SettingsConfigDict(
        env_prefix="KENDALI_BASEMAPS_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    sources: list[BasemapSource] = Field(default_factory=lambda: [OSM], max_length=50)
    default: str = Field(OFFLINE_ID, pattern=SLUG)
    land_geojson: Path | None = Field(None, description="GeoJSON of the city's land; unset: packaged coast")
    center_lon: float = Field(128.18, ge=-180, le=180)
    center_lat: float = Field(-3.70, ge=-85, le=85)
    zoom: float = Field(12, ge=0, le=22)
    offline: OfflineLook = Field(default_factory=OfflineLook)

    @field_validator("sources")
    @classmethod
    def _unique_ids(cls, sources: list[BasemapSource]) -> list[BasemapSource]:
        ids = [s.id for s in sources]
        if OFFLINE_ID in ids:
            raise ValueError(f"{OFFLINE_ID!r} is the built-in basemap; choose another id")
        if len(ids) != len(set(ids)):
            raise ValueError("basemap ids must be unique")
        return sources

    @model_validator(mode="after")
    def _known_default(self) -> Self:
        if self.default not in {s.id for s in self.all_sources()}:
            raise ValueError(f"default basemap {self.default!r} is not among the sources")
        return self

    def all_sources(self) -> list[BasemapSource]:
        """Return the built-in offline basemap followed by the configured ones."""
        return [OFFLINE, *self.sources]
