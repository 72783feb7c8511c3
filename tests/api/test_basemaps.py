"""Basemaps over HTTP: the list, the offline land polygon, and tiles of a local MBTiles archive."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from basemaps.raster_tiles import empty_tile
from basemaps.settings import BasemapSettings, BasemapSource, SourceKind
from tests.api._map_support import BAY_POINT, LAND_POINT, map_client, validate, write_mbtiles

TILE = empty_tile()


@pytest.fixture
def mbtiles_path(tmp_path: Path) -> Path:
    return write_mbtiles(tmp_path / "ambon.mbtiles", {(0, 0, 0): TILE, (2, 1, 0): TILE + b"\0"})


@pytest.fixture
def client(database_url: str, session: Session, mbtiles_path: Path) -> Iterator[TestClient]:
    local = BasemapSource(
        id="ambon", kind=SourceKind.MBTILES, title_id="Lokal", title_en="Local", path=mbtiles_path
    )
    settings = BasemapSettings(sources=[local])
    with map_client(database_url, session, settings) as c:
        yield c


def test_basemaps_lists_offline_first_and_works_without_internet(client: TestClient) -> None:
    body = client.get("/basemaps", params={"lang": "en"}).json()
    first = body["basemaps"][0]
    assert body["default"] == "offline"
    assert (first["id"], first["kind"], first["online"]) == ("offline", "offline", False)
    assert first["links"][0]["href"].endswith("/styles/offline.json")


def test_basemaps_lists_the_mbtiles_archive_with_its_metadata(client: TestClient) -> None:
    ambon = next(b for b in client.get("/basemaps").json()["basemaps"] if b["id"] == "ambon")
    assert (ambon["format"], ambon["minzoom"], ambon["maxzoom"]) == ("png", 0, 3)
    assert ambon["tiles"].endswith("/basemaps/ambon/{z}/{x}/{y}.png") and ambon["attribution"] == "test tiles"


def test_default_settings_list_osm_as_online_only(database_url: str, session: Session) -> None:
    with map_client(database_url, session) as plain:
        basemaps = {b["id"]: b for b in plain.get("/basemaps").json()["basemaps"]}
    assert basemaps["osm"]["online"] is True and "{z}" in basemaps["osm"]["tiles"]


@pytest.mark.parametrize(("zxy", "body"), [("0/0/0", TILE), ("2/1/0", TILE + b"\0")])
def test_mbtiles_tile_is_served_with_xyz_rows(client: TestClient, zxy: str, body: bytes) -> None:
    response = client.get(f"/basemaps/ambon/{zxy}.png")
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"] == "image/png" and response.headers["etag"]


def test_missing_mbtiles_tile_is_204(client: TestClient) -> None:
    assert client.get("/basemaps/ambon/2/1/3.png").status_code == 204


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/basemaps/ambon/0/0/0.pbf", 400),
        ("/basemaps/ambon/1/2/0.png", 400),
        ("/basemaps/ambon/0/0/0.gif", 400),
        ("/basemaps/nope/0/0/0.png", 404),
        ("/basemaps/osm/0/0/0.png", 404),
    ],
)
def test_bad_basemap_tile_requests(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status and response.headers["content-type"] == "application/problem+json"


def test_mbtiles_style_validates_against_local_tiles(client: TestClient, tmp_path: Path) -> None:
    style = client.get("/styles/ambon.json").json()
    assert style["sources"]["kendali-basemap"]["tiles"][0].endswith("/basemaps/ambon/{z}/{x}/{y}.png")
    assert validate(style, tmp_path) == ""


def test_offline_land_is_the_island_coast(client: TestClient) -> None:
    response = client.get("/basemaps/offline/land.geojson")
    land = shape(response.json()["features"][0]["geometry"])
    assert response.headers["content-type"] == "application/geo+json"
    assert land.contains(Point(LAND_POINT)) and not land.contains(Point(BAY_POINT))


def test_offline_land_can_come_from_a_configured_file(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    square = tmp_path / "land.geojson"
    square.write_text('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}')
    with map_client(database_url, session, BasemapSettings(land_geojson=square)) as custom:
        land = shape(custom.get("/basemaps/offline/land.geojson").json()["features"][0]["geometry"])
    assert land.bounds == (0, 0, 1, 1)


def test_a_vector_archive_is_served_but_has_no_style(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    path = write_mbtiles(tmp_path / "v.mbtiles", {(0, 0, 0): gzip.compress(b"mvt")}, fmt="pbf")
    vector = BasemapSource(id="vec", kind=SourceKind.MBTILES, title_id="V", title_en="V", path=path)
    with map_client(database_url, session, BasemapSettings(sources=[vector])) as c:
        tile = c.get("/basemaps/vec/0/0/0.pbf")
        plain = c.get("/basemaps/vec/0/0/0.pbf", headers={"Accept-Encoding": "identity"})
        listed = next(b for b in c.get("/basemaps").json()["basemaps"] if b["id"] == "vec")
        style = c.get("/styles/vec.json")
    assert tile.headers["content-encoding"] == "gzip" and tile.content == b"mvt"
    assert "content-encoding" not in plain.headers and plain.content == b"mvt"
    assert listed["links"] == [] and style.status_code == 400
