"""Stored and query layers are two kinds of one collection: one route per path, one 404, Link headers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from geo.tiles import span_lonlat
from layers.access.auth import create_key

COLLECTION_PATHS = [
    "/collections/{id}",
    "/collections/{id}/items",
    "/collections/{id}/items/1",
    "/collections/{id}/queryables",
    "/collections/{id}/summary",
    "/collections/{id}/tiles",
    "/collections/{id}/tiles/WebMercatorQuad",
    "/collections/{id}/tiles/WebMercatorQuad/12/2100/3500",
    "/collections/{id}/export?f=csv",
    "/tiles/{id}/12/3500/2100.mvt",
    "/tiles/{id}.json",
]


@pytest.fixture
def staff(conn: Connection) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(conn, 'dlhp', ['dlhp-operator']).secret}"}


def test_every_collection_path_has_one_route(client: TestClient) -> None:
    paths = list(client.app.openapi()["paths"])  # type: ignore[attr-defined]
    shapes = [re.sub(r"\{[^}]+\}", "{}", p) for p in paths]
    assert len(shapes) == len(set(shapes)), sorted(s for s in shapes if shapes.count(s) > 1)
    assert "/collections/{collection_id}/items" in paths


@pytest.mark.parametrize("template", COLLECTION_PATHS)
def test_a_hidden_collection_is_missing_like_one_that_does_not_exist(
    client: TestClient, template: str
) -> None:
    hidden = client.get(template.replace("{id}", "tax_compliance"))
    missing = client.get(template.replace("{id}", "tax_complianxe"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")
    assert hidden.json() == {
        k: (v.replace("tax_complianxe", "tax_compliance") if isinstance(v, str) else v)
        for k, v in missing.json().items()
    }


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/collections/dumping_points/items", {"limit": "3"}),
        ("/collections/waste_clusters/items", {"limit": "1", "hours": "0", "min_points": "1"}),
    ],
)
def test_items_carry_their_links_in_the_link_header(
    client: TestClient, staff: dict[str, str], path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params, headers=staff)
    assert response.status_code == 200, response.text
    body = response.json()
    header = response.headers["link"]
    for item in body["links"]:
        assert f"<{item['href']}>; rel={item['rel']};" in header
    assert {"self", "alternate"} <= {item["rel"] for item in body["links"]}
    if body["numberMatched"] > body["numberReturned"]:
        assert "rel=next;" in header


def test_export_without_collections_is_a_bad_request(client: TestClient) -> None:
    response = client.get("/export", params={"collections": "", "f": "gpkg"})
    assert response.status_code == 400
    assert response.json()["parameter"] == "collections"


def test_a_stored_layer_has_no_summary(client: TestClient) -> None:
    response = client.get("/collections/dumping_points/summary")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_composite_tile_joins_a_stored_and_a_query_layer(client: TestClient, staff: dict[str, str]) -> None:
    params = {"hours": "0", "min_points": "1"}
    span = span_lonlat((128.18, -3.70, 128.18, -3.70), 10)  # the tile over the city centre
    path = f"10/{span.min_x}/{span.min_y}.mvt"
    both = client.get(f"/tiles/districts,waste_clusters/{path}", params=params, headers=staff)
    alone = [
        client.get(f"/tiles/{layer}/{path}", params=params, headers=staff).content
        for layer in ("districts", "waste_clusters")
    ]
    assert both.status_code == 200
    assert alone[0] and alone[1]
    # The answer's hours move with the clock between requests; its encoding does not change in length.
    assert both.content.startswith(alone[0])
    assert len(both.content) == len(alone[0]) + len(alone[1])
