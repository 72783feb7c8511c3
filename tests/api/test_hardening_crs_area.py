"""Coordinates outside the area their CRS is defined for are a 400, never a 500, on every path."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pyproj import CRS, Transformer
from sqlalchemy import Connection

from geo.crs import SUPPORTED_SRIDS, crs_bounds
from layers.access.auth import create_key

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
AMBON = "POLYGON((128.15 -3.72, 128.21 -3.72, 128.21 -3.68, 128.15 -3.68, 128.15 -3.72))"
PATHS = {
    "items": ("/collections/dumping_points/items", {}),
    "query": ("/collections/in_area/items", {"geometry": AMBON}),
    "export": ("/collections/cctv/export", {"f": "csv"}),
}
FAR = {
    "bbox": lambda srid: {"bbox": "-1e12,-1e12,1e12,1e12", "bbox-crs": f"{EPSG}{srid}"},
    "filter": lambda srid: {
        "filter": "S_INTERSECTS(geometry,POINT(1e12 1e12))",
        "filter-crs": f"{EPSG}{srid}",
    },
}


@pytest.fixture
def staff(conn: Connection) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(conn, 'crs-area', ['bpbd-operator']).secret}"}


@pytest.mark.parametrize("srid", [3857, 32752])
@pytest.mark.parametrize("kind", sorted(FAR))
@pytest.mark.parametrize("path", sorted(PATHS))
def test_coordinates_outside_a_projected_crs_are_a_400(
    client: TestClient, staff: dict[str, str], path: str, kind: str, srid: int
) -> None:
    url, own = PATHS[path]
    response = client.get(url, params={**own, **FAR[kind](srid)}, headers=staff)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"EPSG:{srid} (x " in response.json()["detail"]  # the area that CRS is defined for


def test_a_bbox_inside_utm_52s_still_selects_features(client: TestClient) -> None:
    to_utm = Transformer.from_crs(4326, 32752, always_xy=True)
    (x1, x2), (y1, y2) = to_utm.transform([128.15, 128.21], [-3.72, -3.68])
    crs84 = client.get(PATHS["items"][0], params={"bbox": "128.15,-3.72,128.21,-3.68", "limit": 1000})
    utm = client.get(
        PATHS["items"][0], params={"bbox": f"{x1},{y1},{x2},{y2}", "bbox-crs": f"{EPSG}32752", "limit": 1000}
    )
    assert utm.status_code == 200, utm.text
    assert {f["id"] for f in utm.json()["features"]} == {f["id"] for f in crs84.json()["features"]} != set()


@pytest.mark.parametrize("srid", SUPPORTED_SRIDS)
def test_every_offered_crs_has_its_area_from_pyproj(srid: int) -> None:
    minx, miny, maxx, maxy = crs_bounds(srid)
    assert minx < maxx and miny < maxy
    area = CRS.from_epsg(srid).area_of_use
    assert area is not None
    centre = Transformer.from_crs(4326, srid, always_xy=True).transform(
        (area.west + area.east) / 2, (area.south + area.north) / 2
    )
    assert minx <= centre[0] <= maxx and miny <= centre[1] <= maxy


def test_a_stored_feature_that_cannot_be_projected_is_a_400(client: TestClient, conn: Connection) -> None:
    editor = {"Authorization": f"Bearer {create_key(conn, 'crs-area', ['dlhp-editor']).secret}"}
    far = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [39.0, 0.0]},  # 90° off UTM 52S: no projection
        "properties": {"name": "TPS jauh", "tps_type": "tps", "capacity_m3": 4},
    }
    created = client.post(PATHS["items"][0], json=far, headers=editor)
    assert created.status_code == 201, created.text
    item = f"{PATHS['items'][0]}/{created.json()['id']}"
    response = client.get(item, params={"crs": f"{EPSG}32752", "lang": "en"})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "outside_crs_area" and "outside the area its CRS is defined for" in body["detail"]
