"""Vector tiles over HTTP: XYZ, composite, TileJSON, OGC API – Tiles; caching headers, errors and access."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from geo.tiles import TMS, TileKey
from layers.access.auth import create_key
from layers.catalog import LAYERS
from layers.settings import DatabaseSettings
from layers.tiles.cache import CACHE
from layers.tiles.changes import changed_tiles


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """An in-process client with the tile routes, sharing the test's rolled-back session."""
    CACHE.clear()  # tests change rows without the live stream that would retire cached tiles
    app = create_app(ApiSettings(db=DatabaseSettings(url=database_url)))  # type: ignore[arg-type]
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


def centre(z: int) -> TileKey:
    t = TMS.tile(128.18, -3.70, z)
    return TileKey(t.z, t.x, t.y)


def xyz(layers: str, key: TileKey) -> str:
    return f"/tiles/{layers}/{key.z}/{key.x}/{key.y}.mvt"


def bearer(conn: Connection, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(conn, 'tiles-test', [role]).secret}"}


def test_tile_is_mvt_with_strong_etag_and_vary(client: TestClient) -> None:
    response = client.get(xyz("cctv", centre(14)))
    assert (
        response.status_code == 200
        and response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    )
    assert response.headers["etag"].startswith('"') and not response.headers["etag"].startswith("W/")
    assert response.headers["vary"] == "Authorization, X-API-Key, Accept-Encoding"


@pytest.mark.parametrize(
    ("layer", "cache_control"),
    [
        ("cctv", "public, max-age=5"),
        ("districts", "public, max-age=3600"),
        ("cctv,districts", "public, max-age=5"),
    ],
)
def test_live_layers_cache_briefly_static_ones_long(
    client: TestClient, layer: str, cache_control: str
) -> None:
    assert client.get(xyz(layer, centre(14))).headers["cache-control"] == cache_control


def test_restricted_layer_tiles_are_private(client: TestClient, conn: Connection) -> None:
    response = client.get(xyz("taxpayers", centre(14)), headers=bearer(conn, "bpprd-analyst"))
    assert response.status_code == 200 and response.headers["cache-control"] == "private, max-age=5"


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_if_none_match_gives_304(client: TestClient, encoding: str) -> None:
    first = client.get(xyz("dumping_points", centre(14)), headers={"Accept-Encoding": encoding})
    again = client.get(
        xyz("dumping_points", centre(14)),
        headers={"If-None-Match": first.headers["etag"], "Accept-Encoding": "gzip"},
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"]


def test_stale_etag_gets_the_tile(client: TestClient) -> None:
    response = client.get(xyz("dumping_points", centre(14)), headers={"If-None-Match": '"0123", W/"abcd"'})
    assert response.status_code == 200 and response.content


def test_gzip_only_when_asked(client: TestClient) -> None:
    plain = client.get(xyz("dumping_points", centre(13)), headers={"Accept-Encoding": "identity"})
    packed = client.get(xyz("dumping_points", centre(13)), headers={"Accept-Encoding": "gzip"})
    refused = client.get(xyz("dumping_points", centre(13)), headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["etag"] != plain.headers["etag"]
    assert packed.content == plain.content  # the client undid the gzip it asked for


def test_empty_tile_is_204(client: TestClient) -> None:
    response = client.get("/tiles/cctv/10/0/0.mvt")
    assert response.status_code == 204 and response.content == b""


BAD_TILES = [
    "/tiles/cctv/x/1/1.mvt",
    "/tiles/cctv/1.5/1/1.mvt",
    "/tiles/cctv/-1/0/0.mvt",
    "/tiles/cctv/3/-1/0.mvt",
    "/tiles/cctv/25/0/0.mvt",
    "/tiles/cctv/23/0/0.mvt",  # above the layer's max zoom (22)
    "/tiles/cctv/3/8/0.mvt",
    "/tiles/cctv/3/0/8.mvt",
    "/tiles/cctv/3/99999999999/0.mvt",
    "/tiles/,/3/0/0.mvt",
    "/tiles/" + ",".join(["cctv"] * 17 + [f"l{i}" for i in range(17)]) + "/3/0/0.mvt",
    "/collections/cctv/tiles/WebMercatorQuad/3/8/0",  # row 8 does not exist at zoom 3
    "/collections/cctv/tiles/WebMercatorQuad/a/0/0",
]


@pytest.mark.parametrize("path", BAD_TILES)
def test_bad_coordinates_give_400_problem(client: TestClient, path: str) -> None:
    response = client.get(path, params={"lang": "en"})
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] and "Traceback" not in response.text


HIDDEN = [
    xyz("taxpayers", centre(14)),
    xyz("cctv,taxpayers", centre(14)),
    xyz("nope", centre(14)),
    "/tiles/taxpayers.json",
    "/tiles/cctv,taxpayers.json",
    "/collections/taxpayers/tiles",
    "/collections/taxpayers/tiles/WebMercatorQuad",
    "/collections/taxpayers/tiles/WebMercatorQuad/14/8360/14025",
    "/tiles/taxpayers/x/y/z.mvt",  # hidden layers are missing, whatever else is wrong
]


@pytest.mark.parametrize("path", HIDDEN)
def test_restricted_layer_yields_no_tile_and_no_tilejson_for_anonymous(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/tiles/taxpayers.json", xyz("taxpayers", centre(14))])
def test_bpprd_analyst_key_gets_the_restricted_layer(client: TestClient, conn: Connection, path: str) -> None:
    response = client.get(path, headers=bearer(conn, "bpprd-analyst"))
    assert response.status_code == 200 and response.content


def test_tilejson_describes_fields_zooms_and_bounds(client: TestClient, conn: Connection) -> None:
    doc = client.get("/tiles/taxpayers.json", headers=bearer(conn, "bpprd-analyst")).json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"][0].endswith("/tiles/taxpayers/{z}/{x}/{y}.mvt")
    assert (doc["minzoom"], doc["maxzoom"]) == (10, 22)
    west, south, east, north = doc["bounds"]
    assert 128.0 < west < east < 128.4 and -3.9 < south < north < -3.5
    [layer] = doc["vector_layers"]
    assert layer["id"] == "taxpayers" and layer["minzoom"] == 10
    assert {"name", "external_id", "status", "status_value", "stale", "tax_rate_pct", "point_count"} <= set(
        layer["fields"]
    )
    assert all(isinstance(v, str) for v in layer["fields"].values())


def test_tilejson_leaves_out_attributes_the_caller_may_not_see(client: TestClient, conn: Connection) -> None:
    fields: dict[str, Any] = client.get("/tiles/taxpayers.json", headers=bearer(conn, "bpprd-viewer")).json()[
        "vector_layers"
    ][0]["fields"]
    assert "business_name" in fields and "tax_rate_pct" not in fields and "status_value" not in fields


def test_composite_tilejson_lists_each_layer(client: TestClient) -> None:
    doc = client.get("/tiles/districts,cctv.json", params={"lang": "en"}).json()
    assert [v["id"] for v in doc["vector_layers"]] == ["districts", "cctv"]
    assert doc["name"] == "Districts, CCTV cameras"


def test_ogc_tile_path_is_zoom_row_column(client: TestClient) -> None:
    key = centre(15)
    ogc = client.get(f"/collections/cctv/tiles/WebMercatorQuad/{key.z}/{key.y}/{key.x}")
    assert ogc.status_code == 200 and ogc.content == client.get(xyz("cctv", key)).content


def test_ogc_tileset_metadata_links_the_tile_template(client: TestClient) -> None:
    doc = client.get("/collections/cctv/tiles/WebMercatorQuad").json()
    assert doc["dataType"] == "vector" and doc["tileMatrixSetURI"].endswith("/WebMercatorQuad")
    item = next(lk for lk in doc["links"] if lk["rel"] == "item")
    assert item["templated"] and item["href"].endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    limit14 = next(lim for lim in doc["tileMatrixSetLimits"] if lim["tileMatrix"] == "14")
    assert limit14["minTileCol"] <= centre(14).x <= limit14["maxTileCol"]
    assert doc["layers"][0]["geometryDimension"] == 0


def test_ogc_tileset_list_and_tile_matrix_sets(client: TestClient) -> None:
    listed = client.get("/collections/districts/tiles").json()["tilesets"]
    assert [t["dataType"] for t in listed] == ["vector"]
    assert client.get("/tileMatrixSets").json()["tileMatrixSets"][0]["id"] == "WebMercatorQuad"
    assert client.get("/tileMatrixSets/WebMercatorQuad").json()["id"] == "WebMercatorQuad"


@pytest.mark.parametrize("path", ["/tileMatrixSets/WorldCRS84Quad", "/collections/cctv/tiles/Nope"])
def test_unknown_tile_matrix_set_is_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_new_asset_shows_in_the_next_tile_once_noted(client: TestClient, conn: Connection) -> None:
    key = centre(16)
    before = client.get(xyz("dumping_points", key))
    new_id = conn.execute(
        text(
            "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency) VALUES "
            "('dumping_points', 'TILE-NEW', 'new', ST_SetSRID(ST_MakePoint(128.18, -3.70), 4326), "
            '\'{"tps_type": "tps", "capacity_m3": 6}\', \'dlhp\') RETURNING id'
        )
    ).scalar_one()
    assert client.get(xyz("dumping_points", key)).headers["etag"] == before.headers["etag"]  # cached
    notice = changed_tiles(conn, LAYERS["dumping_points"], [new_id])  # what a change's event names
    CACHE.retire("dumping_points", notice.area())  # what retire_tiles does with it, after commit
    after = client.get(xyz("dumping_points", key))
    assert key in notice.tiles and after.headers["etag"] != before.headers["etag"]
