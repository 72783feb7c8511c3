"""Basemap settings: sources from the environment, and the checks that keep a bad list out."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from basemaps.settings import BasemapSettings, BasemapSource, SourceKind


def test_sources_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    source = '[{"id": "city", "kind": "mbtiles", "title_id": "K", "title_en": "C", "path": "/c.mbtiles"}]'
    monkeypatch.setenv("KENDALI_BASEMAPS_SOURCES", source)
    monkeypatch.setenv("KENDALI_BASEMAPS_DEFAULT", "city")
    settings = BasemapSettings()
    assert [s.id for s in settings.all_sources()] == ["offline", "city"] and settings.default == "city"


def test_the_offline_basemap_is_always_there_and_osm_is_online_only() -> None:
    sources = {s.id: s for s in BasemapSettings().all_sources()}
    assert not sources["offline"].online and sources["osm"].online


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "offline", "kind": "xyz", "url": "https://t/{z}/{x}/{y}.png"},
        {"id": "web", "kind": "xyz", "url": "https://t/{z}/{x}.png"},
        {"id": "web", "kind": "xyz", "url": "file:///etc/{z}/{x}/{y}"},
        {"id": "local", "kind": "mbtiles"},
        {"id": "Bad Id", "kind": "offline"},
        {"id": "web", "kind": "xyz", "url": "https://t/{z}/{x}/{y}.png", "min_zoom": 9, "max_zoom": 3},
    ],
)
def test_bad_sources_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        BasemapSettings(sources=[{"title_id": "t", "title_en": "t", **fields}])  # type: ignore[list-item]


def test_ids_are_unique_and_the_default_must_exist() -> None:
    city = BasemapSource(
        id="city", kind=SourceKind.PMTILES, title_id="K", title_en="C", path=Path("/c.pmtiles")
    )
    with pytest.raises(ValidationError):
        BasemapSettings(sources=[city, city])
    with pytest.raises(ValidationError):
        BasemapSettings(default="nowhere")
