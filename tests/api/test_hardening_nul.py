"""A NUL character in any request text is a 400 problem body, never a database error (issue 14, item 1)."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from layers.access.auth import create_key


@pytest.fixture
def editor(conn: Connection) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(conn, 'bpbd-ed', ['bpbd-editor']).secret}"}


@pytest.mark.parametrize(
    "path",
    [
        "/collections/dumping_points/items?name=a%00b",
        "/collections/dumping_points/items?filter=name%20%3D%20%27a%00b%27",
        "/collections/dumping_points/items?sortby=na%00me",
        "/collections/dumping_points%00/items",
        "/collections/in_area/items?district=a%00b",
        "/collections/cctv/export?f=csv&name=%00",
    ],
)
def test_a_nul_in_the_path_or_query_is_a_bad_request(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "NUL" in response.json()["detail"]


def test_a_nul_in_a_json_body_string_is_a_bad_request(client: TestClient, editor: dict[str, str]) -> None:
    feature = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[128.1, -3.7], [128.2, -3.7], [128.2, -3.6], [128.1, -3.7]]],
        },
        "properties": {"name": "Area\u0000 banjir"},
    }
    response = client.post(
        "/collections/response_areas/items",
        content=json.dumps(feature),
        headers={**editor, "Content-Type": "application/geo+json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "nul_character"


def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: TestClient, editor: dict[str, str]
) -> None:
    body = b'{"type": "Feature", "geometry": null, "properties": {"name": "C:\\\\u0000"}}'
    response = client.post(
        "/collections/response_areas/items",
        content=body,
        headers={**editor, "Content-Type": "application/geo+json"},
    )
    assert response.status_code != 500
    assert response.json().get("code") != "nul_character"


def test_a_nul_in_a_query_value_over_real_http_is_a_bad_request(server_url: str) -> None:
    response = httpx.get(f"{server_url}/collections/dumping_points/items?name=a%00b", timeout=30)
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"
