"""A Content-Crs on a write must name a supported CRS; a supported one is accepted as it always was."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from layers.access.auth import create_key
from layers.tables import assets

ITEMS = "/collections/dumping_points/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TPS = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [128.18, -3.70]},
    "properties": {"name": "TPS Mardika", "tps_type": "tps", "capacity_m3": 4},
}
UNSUPPORTED = ["http://www.opengis.net/def/crs/EPSG/0/2000", "<EPSG:9999>", "nonsense", "<>"]


@pytest.fixture
def editor(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(session.connection(), 'crs-test', ['dlhp-editor']).secret}"}


def _tps_count(session: Session) -> int:
    return session.execute(select(func.count()).where(assets.c.layer_id == "dumping_points")).scalar_one()


def _write(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body = TPS if method != "PATCH" else {"properties": {"capacity_m3": 5}}
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("crs", UNSUPPORTED)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_write_with_an_unsupported_content_crs_is_refused(
    client: TestClient, session: Session, editor: dict[str, str], method: str, crs: str
) -> None:
    created = client.post(ITEMS, json=TPS, headers=editor)
    path = ITEMS if method == "POST" else f"{ITEMS}/{created.json()['id']}"
    before = _tps_count(session)
    response = _write(client, method, path, editor | {"Content-Crs": crs})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["parameter"] == "Content-Crs"
    assert "CRS tidak didukung" in response.json()["detail"]
    assert _tps_count(session) == before
    if method != "POST":
        assert client.get(path).json()["properties"]["version"] == 1  # nothing was written


def test_unsupported_content_crs_is_explained_in_english(client: TestClient, editor: dict[str, str]) -> None:
    headers = editor | {"Content-Crs": "<urn:ogc:def:crs:EPSG::2000>", "Accept-Language": "en"}
    detail = client.post(ITEMS, json=TPS, headers=headers).json()["detail"]
    assert detail.startswith("Content-Crs: unsupported CRS; use one of") and CRS84 in detail


@pytest.mark.parametrize("crs", [f"<{CRS84}>", CRS84, " <[OGC:CRS84]> "])
def test_write_with_a_supported_content_crs_is_stored_as_before(
    client: TestClient, editor: dict[str, str], crs: str
) -> None:
    response = client.post(ITEMS, json=TPS, headers=editor | {"Content-Crs": crs})
    assert response.status_code == 201, response.text
    stored = client.get(response.headers["location"].removeprefix("http://testserver")).json()
    assert stored["geometry"]["coordinates"] == [128.18, -3.70]
