"""Query layers over HTTP: listed with their parameters, served by the items, tile and export paths alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo.tiles import TMS, TileKey, bounds_3857
from layers.access.auth import create_key
from layers.queries import access
from layers.queries.catalog import QUERIES

ITEMS = "/collections/in_area/items"


@pytest.fixture
def staff(conn: Connection) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(conn, 'bpbd', ['bpbd-operator']).secret}"}


@pytest.fixture
def area(conn: Connection) -> str:
    """A box around the middle of the city's dumping points, as WKT."""
    sql = "SELECT ST_Extent(geom)::geometry FROM assets WHERE layer_id = 'dumping_points'"
    extent = shapely.from_wkb(bytes(conn.execute(text(f"SELECT ST_AsBinary(({sql}))")).scalar_one()))
    minx, miny, maxx, maxy = extent.bounds
    dx, dy = (maxx - minx) / 4, (maxy - miny) / 4
    return shapely.box(minx + dx, miny + dy, maxx - dx, maxy - dy).wkt


def _all_pages(
    client: TestClient, headers: dict[str, str], params: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    url: str | None = ITEMS
    query: dict[str, Any] | None = params
    while url is not None:
        body = client.get(url, params=query, headers=headers).json()
        yield from body["features"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        query = None


def test_query_layers_are_collections_with_described_parameters(
    client: TestClient, staff: dict[str, str]
) -> None:
    listed = client.get("/collections", params={"lang": "en"}, headers=staff).json()["collections"]
    docs = {c["id"]: c for c in listed}
    doc = docs["in_area"]
    assert doc["kendali:kind"] == "query"
    params = doc["kendali:parameters"]["properties"]
    assert {"geometry", "layers", "area_id", "district"} <= set(params)
    assert all(p["x-title-id"] and p["x-title-en"] for p in params.values())
    assert params["area_id"]["minimum"] == 1
    assert any(link["rel"] == "items" for link in doc["links"])
    # Stored layers are still listed beside them, and the query's own description agrees.
    assert "cctv" in docs
    own = client.get("/collections/in_area", headers=staff).json()
    assert own["kendali:parameters"]["properties"].keys() == params.keys()


def test_anonymous_callers_do_not_see_staff_queries(client: TestClient) -> None:
    ids = {c["id"] for c in client.get("/collections").json()["collections"]}
    assert not ids & set(QUERIES)
    response = client.get(ITEMS, params={"geometry": "POINT(0 0)"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_pages_follow_cursors_and_cover_the_whole_answer(
    client: TestClient, staff: dict[str, str], area: str
) -> None:
    params = {"geometry": area, "layers": "dumping_points,cctv"}
    whole = client.get(ITEMS, params={**params, "limit": 10000}, headers=staff).json()
    assert whole["numberMatched"] == whole["numberReturned"] > 7
    assert whole["kendali:parameters"]["layers"] == ["dumping_points", "cctv"]
    assert whole["kendali:columns"]["name"]["title"] == "Nama"  # Indonesian by default, for table headers
    paged = [f["id"] for f in _all_pages(client, staff, {**params, "limit": 7})]
    assert paged == sorted(paged) == [f["id"] for f in whole["features"]]
    box = shapely.from_wkt(area)
    assert all(box.intersects(shapely.geometry.shape(f["geometry"])) for f in whole["features"])


def test_cql2_filter_sort_and_properties_apply_to_the_answer(
    client: TestClient, staff: dict[str, str], area: str
) -> None:
    params = {"geometry": area, "layers": "dumping_points,cctv", "limit": 10000}
    whole = client.get(ITEMS, params=params, headers=staff).json()["features"]
    cameras = client.get(ITEMS, params={**params, "filter": "layer = 'cctv'"}, headers=staff).json()
    expected = {f["id"] for f in whole if f["properties"]["layer"] == "cctv"}
    assert {f["id"] for f in cameras["features"]} == expected
    named = client.get(
        ITEMS, params={**params, "sortby": "-name", "properties": "name"}, headers=staff
    ).json()
    names = [f["properties"]["name"] for f in named["features"]]
    assert names == sorted(names, reverse=True)
    assert all(set(f["properties"]) == {"name"} for f in named["features"])


def _tile_of(feature: dict[str, Any], z: int) -> TileKey:
    lon, lat = feature["geometry"]["coordinates"][:2]
    t = TMS.tile(lon, lat, z)
    return TileKey(t.z, t.x, t.y)


def _tile_with_most(features: list[dict[str, Any]], z: int) -> TileKey:
    counts: dict[TileKey, int] = {}
    for f in features:
        key = _tile_of(f, z)
        counts[key] = counts.get(key, 0) + 1
    return max(counts, key=lambda k: counts[k])


def test_tiles_and_exports_carry_the_same_answer(
    client: TestClient, staff: dict[str, str], area: str, tmp_path: Path
) -> None:
    params = {"geometry": area, "layers": "dumping_points"}
    features = client.get(ITEMS, params={**params, "limit": 10000}, headers=staff).json()["features"]
    key = _tile_with_most(features, 14)
    response = client.get(f"/tiles/in_area/{key.z}/{key.x}/{key.y}.mvt", params=params, headers=staff)
    assert response.status_code == 200 and response.headers["cache-control"].startswith("private")
    path = tmp_path / str(key.z) / str(key.x) / f"{key.y}.mvt"
    path.parent.mkdir(parents=True)
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(path, layer="in_area", CLIP="NO")
    west, south, east, north = bounds_3857(key)
    xs, ys = frame.geometry.x, frame.geometry.y
    in_tile = set(frame[(xs >= west) & (xs <= east) & (ys >= south) & (ys <= north)]["mvt_id"].astype(int))
    assert in_tile == {f["id"] for f in features if _tile_of(f, key.z) == key} and in_tile

    gpkg = client.get("/collections/in_area/export", params={**params, "f": "gpkg"}, headers=staff)
    assert gpkg.status_code == 200, gpkg.text
    (tmp_path / "a.gpkg").write_bytes(gpkg.content)
    exported = pyogrio.read_dataframe(tmp_path / "a.gpkg", layer="in_area")
    assert sorted(exported["name"]) == sorted(f["properties"]["name"] for f in features)
    csv = client.get("/collections/in_area/export", params={**params, "f": "csv"}, headers=staff)
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == len(features) + 1


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "place"),
        ({"area_id": "0"}, "area_id"),
        ({"area_id": "many"}, "area_id"),
        ({"geometry": "POLYGON((0 0, 1 1"}, "geometry"),
        ({"geometry": "POINT(128 -3.7)", "radius": "5"}, "radius"),
        ({"geometry": "POINT(128 -3.7)", "layers": "no_such_layer"}, "layers"),
    ],
)
def test_bad_parameters_are_clear_400s_in_both_languages(
    client: TestClient, staff: dict[str, str], params: dict[str, str], parameter: str
) -> None:
    en = client.get(ITEMS, params={**params, "lang": "en"}, headers=staff)
    id_ = client.get(ITEMS, params=params, headers=staff)
    assert en.status_code == id_.status_code == 400
    assert en.headers["content-type"].startswith("application/problem+json")
    assert en.json()["detail"] != id_.json()["detail"]
    assert "SELECT" not in en.text and "Traceback" not in en.text


def test_a_query_that_runs_past_its_time_limit_says_so(
    client: TestClient, staff: dict[str, str], area: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hurried = dataclasses.replace(QUERIES["in_area"], time_limit_s=0.001)
    monkeypatch.setattr(access, "QUERIES", {**QUERIES, "in_area": hurried})
    response = client.get(ITEMS, params={"geometry": area, "lang": "en"}, headers=staff)
    assert response.status_code == 503
    body = response.json()
    assert "time limit" in body["detail"] and body["time_limit_s"] == 0.001


def test_qgis_project_offers_the_queries_that_run_without_parameters(
    client: TestClient, staff: dict[str, str]
) -> None:
    project = client.get("/qgis/project.qgs", headers=staff).text
    assert "kendali_waste_clusters_query" in project and "typename='waste_clusters'" in project
    assert "kendali_flood_zones_query" in project
    assert "kendali_in_area_query" not in project  # needs a place: no form in QGIS to give it
    assert "_query" not in client.get("/qgis/project.qgs").text
