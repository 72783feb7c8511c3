"""GET /health and the landing document, in process and through a real server."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient


def test_health_reports_ok(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["migration"] == body["migration_head"]
    assert body["postgis"].startswith("3.")


def test_landing_lists_public_layers_for_anonymous(client: TestClient) -> None:
    body = client.get("/").json()
    ids = {layer["id"] for layer in body["layers"]}
    assert "cctv" in ids and "taxpayers" not in ids and "city_apps" not in ids
    assert {"self", "service-desc"} <= {link["rel"] for link in body["links"]}


def test_unknown_path_is_a_problem_body(client: TestClient) -> None:
    response = client.get("/no/such/path")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_bad_credentials_are_401_not_anonymous(client: TestClient) -> None:
    response = client.get("/", headers={"Authorization": "Bearer kdl_nope_nope"})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_kendali_serve_answers_health_over_http(server_url: str) -> None:
    response = httpx.get(f"{server_url}/health", timeout=5)
    assert response.status_code == 200 and response.json()["status"] == "ok"
