"""GET /health and the landing document, in process and through a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(database_url: str) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database_url, "KENDALI_PORT": str(port)}
    exe = Path(sys.executable).with_name("kendali")
    proc = subprocess.Popen(
        [str(exe), "serve"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_kendali_serve_answers_health_over_http(served: str) -> None:
    response = httpx.get(f"{served}/health", timeout=5)
    assert response.status_code == 200 and response.json()["status"] == "ok"
