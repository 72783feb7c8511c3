"""Raster sources over HTTP: metadata and legends, PNG tiles (colour, classes, hillshade), point values."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from layers.rasters import get_raster
from tests.api._map_support import BAY_POINT, LAND_POINT, decode_png, map_client, tile_and_pixel


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    with map_client(database_url, session) as c:
        yield c


def _tile(
    client: TestClient, raster: str, lonlat: tuple[float, float], z: int, style: str | None = None
) -> bytes:
    tile, _, _ = tile_and_pixel(*lonlat, z)
    params = {"style": style} if style else {}
    response = client.get(f"/rasters/{raster}/tiles/{z}/{tile.x}/{tile.y}.png", params=params)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return response.content


def test_rasters_lists_the_demo_dem_and_flood_hazard(client: TestClient) -> None:
    body = client.get("/rasters", params={"lang": "en"}).json()
    titles = {r["id"]: r["title"] for r in body["rasters"]}
    assert titles == {"dem": "Digital elevation model (demo)", "flood_hazard": "Flood hazard (demo)"}


def test_raster_metadata_has_a_localised_legend_and_tile_templates(client: TestClient) -> None:
    body = client.get("/rasters/flood_hazard", params={"lang": "id"}).json()
    assert body["legend"]["type"] == "classes"
    assert [e["label"] for e in body["legend"]["entries"]] == ["Tidak ada", "Rendah", "Sedang", "Tinggi"]
    assert body["tiles"]["color"].endswith("/rasters/flood_hazard/tiles/{z}/{x}/{y}.png?style=color")
    assert 0 <= body["minzoom"] <= body["maxzoom"]


def test_dem_offers_a_hillshade_style(client: TestClient) -> None:
    body = client.get("/rasters/dem").json()
    assert body["styles"] == ["color", "hillshade"] and body["legend"]["type"] == "ramp"


@pytest.mark.parametrize(
    ("raster", "style", "point", "alpha"),
    [
        ("dem", None, LAND_POINT, 255),
        ("dem", None, BAY_POINT, 0),
        ("dem", "hillshade", LAND_POINT, 255),
        ("dem", "hillshade", BAY_POINT, 0),
        ("flood_hazard", None, BAY_POINT, 0),
    ],
)
def test_tile_is_256_px_opaque_on_land_and_transparent_on_the_bay(
    client: TestClient, raster: str, style: str | None, point: tuple[float, float], alpha: int
) -> None:
    _, row, col = tile_and_pixel(*point, 12)
    pixels = decode_png(_tile(client, raster, point, 12, style))
    assert pixels.shape[1:] == (256, 256) and pixels[-1, row, col] == alpha


def test_flood_hazard_tile_draws_some_hazard_on_land(client: TestClient) -> None:
    pixels = decode_png(_tile(client, "flood_hazard", (128.19, -3.69), 12))
    assert (pixels[-1] > 0).sum() > 100


def test_hillshade_differs_from_the_colour_ramp(client: TestClient) -> None:
    color = decode_png(_tile(client, "dem", LAND_POINT, 12))
    shade = decode_png(_tile(client, "dem", LAND_POINT, 12, "hillshade"))
    assert color.shape[0] == 4 and shade.shape[0] == 2  # RGBA against grey + alpha
    land = shade[-1] == 255
    assert len(np.unique(shade[0][land])) > 20 and not np.array_equal(color[0][land], shade[0][land])


def test_tile_outside_the_raster_is_transparent(client: TestClient) -> None:
    response = client.get("/rasters/dem/tiles/10/0/0.png")
    pixels = decode_png(response.content)
    assert response.status_code == 200 and pixels.shape[1:] == (256, 256) and not pixels[-1].any()


@pytest.mark.parametrize(
    "path",
    [
        "/rasters/dem/tiles/23/0/0.png",
        "/rasters/dem/tiles/3/8/0.png",
        "/rasters/dem/tiles/3/0/8.png",
        "/rasters/dem/tiles/-1/0/0.png",
        "/rasters/dem/tiles/3/a/0.png",
        "/rasters/dem/tiles/3/0/0.png?style=relief",
        "/rasters/flood_hazard/tiles/3/0/0.png?style=hillshade",
    ],
)
def test_bad_tile_requests_get_400_problems(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path", ["/rasters/nope", "/rasters/nope/tiles/3/0/0.png", "/rasters/x'y/value?lon=1&lat=1"]
)
def test_unknown_raster_is_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_tile_etag_gives_304(client: TestClient) -> None:
    tile, _, _ = tile_and_pixel(*LAND_POINT, 11)
    url = f"/rasters/dem/tiles/11/{tile.x}/{tile.y}.png"
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("raster", ["dem", "flood_hazard"])
def test_value_at_a_land_point_equals_rasterios_read(
    client: TestClient, session: Session, raster: str
) -> None:
    body = client.get(f"/rasters/{raster}/value", params={"lon": LAND_POINT[0], "lat": LAND_POINT[1]}).json()
    with rasterio.open(get_raster(session.connection(), raster).path) as src:
        expected = float(next(src.sample([LAND_POINT]))[0])
        unit = src.tags()["unit"]
    assert body["value"] == pytest.approx(expected) and body["unit"] == unit


def test_value_of_a_class_raster_carries_its_label(client: TestClient) -> None:
    body = client.get(
        "/rasters/flood_hazard/value", params={"lon": 128.19, "lat": -3.69, "lang": "en"}
    ).json()
    assert body["label"] in ("None", "Low", "Medium", "High")


def test_value_over_the_sea_is_null(client: TestClient) -> None:
    body = client.get("/rasters/dem/value", params={"lon": BAY_POINT[0], "lat": BAY_POINT[1]}).json()
    assert body["value"] is None


@pytest.mark.parametrize(
    "query", ["lon=200&lat=0", "lon=128&lat=-91", "lon=nan&lat=0", "lon=128", "lon=x&lat=1"]
)
def test_bad_value_coordinates_get_400(client: TestClient, query: str) -> None:
    assert client.get(f"/rasters/dem/value?{query}").status_code == 400
