"""MapLibre style documents: valid by the MapLibre style-spec validator, composed for the caller."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from basemaps.settings import BasemapSettings, OfflineLook
from layers.access.auth import create_key
from tests.api._map_support import map_client, validate


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    with map_client(database_url, session) as c:
        yield c


def _layer_ids(style: dict[str, Any]) -> set[str]:
    return {layer.get("metadata", {}).get("kendali:layer") for layer in style["layers"]} - {None}


@pytest.mark.parametrize("name", ["offline", "osm"])
def test_style_passes_the_maplibre_validator(client: TestClient, tmp_path: Path, name: str) -> None:
    response = client.get(f"/styles/{name}.json")
    assert response.status_code == 200
    assert validate(response.json(), tmp_path) == ""


def test_validator_finds_errors(tmp_path: Path) -> None:
    broken = {"version": 8, "sources": {}, "layers": [{"id": "x", "type": "circle", "source": "missing"}]}
    assert "missing" in validate(broken, tmp_path)


def test_offline_style_draws_water_land_hillshade_districts_and_rivers(client: TestClient) -> None:
    style = client.get("/styles/offline.json").json()
    sources = style["sources"]
    assert sources["kendali-land"]["data"].endswith("/basemaps/offline/land.geojson")
    assert sources["kendali-hillshade"]["tiles"][0].endswith(
        "/rasters/dem/tiles/{z}/{x}/{y}.png?style=hillshade"
    )
    assert sources["kendali-districts"]["tiles"][0].endswith("/tiles/districts/{z}/{x}/{y}.mvt")
    ids = [layer["id"] for layer in style["layers"]]
    assert ids[:3] == ["background", "land", "hillshade"]
    assert {"basemap-districts", "basemap-rivers"} <= set(ids)
    assert style["metadata"]["kendali:online"] is False


def test_osm_style_uses_the_online_raster_with_attribution(client: TestClient) -> None:
    style = client.get("/styles/osm.json").json()
    basemap = style["sources"]["kendali-basemap"]
    assert basemap["tiles"] == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert "OpenStreetMap" in basemap["attribution"] and style["metadata"]["kendali:online"] is True


def test_style_urls_are_absolute(client: TestClient) -> None:
    style = client.get("/styles/offline.json").json()
    urls = [url for source in style["sources"].values() for url in source.get("tiles", [])]
    assert urls and all(url.startswith("http://testserver/") for url in urls if "openstreetmap" not in url)


def test_anonymous_style_has_no_taxpayers(client: TestClient) -> None:
    style = client.get("/styles/offline.json").json()
    assert "taxpayers" not in json.dumps(style)
    assert {"cctv", "dumping_points", "districts"} <= _layer_ids(style)


def test_bpprd_analyst_style_has_taxpayers(client: TestClient, session: Session, tmp_path: Path) -> None:
    key = create_key(session.connection(), "style-analyst", ["bpprd-analyst"]).secret
    style = client.get("/styles/offline.json", headers={"Authorization": f"Bearer {key}"}).json()
    assert "taxpayers" in _layer_ids(style)
    assert "kendali-taxpayers" in style["sources"]
    assert validate(style, tmp_path) == ""


def test_layers_are_coloured_by_status_and_stale(client: TestClient) -> None:
    style = client.get("/styles/offline.json").json()
    cctv = next(layer for layer in style["layers"] if layer["id"] == "cctv-circle")
    color = cctv["paint"]["circle-color"]
    assert color[:3] == ["case", ["==", ["get", "stale"], True], "#9e9e9e"]
    assert color[3] == ["match", ["get", "status"], "online", "#2e7d32", "offline", "#c62828", "#1565c0"]
    assert cctv["source-layer"] == "cctv" and cctv["paint"]["circle-radius"][1] == ["has", "point_count"]


def test_layer_titles_and_legend_are_localised(client: TestClient) -> None:
    style = client.get("/styles/offline.json", params={"lang": "en"}).json()
    legend = {entry["id"]: entry for entry in style["metadata"]["kendali:layers"]}
    assert legend["cctv"]["title"] == "CCTV cameras"
    assert {s["label"] for s in legend["cctv"]["statuses"]} == {"Online", "Offline"}
    circle = next(layer for layer in style["layers"] if layer["id"] == "cctv-circle")
    assert circle["metadata"]["kendali:title"] == "CCTV cameras"


def test_points_are_drawn_above_lines_above_areas(client: TestClient) -> None:
    layers = client.get("/styles/offline.json").json()["layers"]
    kinds = [layer["type"] for layer in layers if "kendali:layer" in layer.get("metadata", {})]
    assert kinds.index("circle") > max(i for i, kind in enumerate(kinds) if kind == "fill")


def test_unknown_style_is_404(client: TestClient) -> None:
    response = client.get("/styles/nope.json")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_offline_style_without_a_dem_leaves_the_hillshade_out(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    settings = BasemapSettings(offline=OfflineLook(hillshade_raster=None))
    with map_client(database_url, session, settings) as plain:
        style = plain.get("/styles/offline.json").json()
    assert "kendali-hillshade" not in style["sources"] and "land" in [
        layer["id"] for layer in style["layers"]
    ]
    assert validate(style, tmp_path) == ""
