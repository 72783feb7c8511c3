"""`/` for browsers and the landing page for API clients; the dashboard's files and vendored libraries."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The shared in-process client (conftest), which serves every route."""
    return client


def test_browsers_get_the_dashboard(api: TestClient) -> None:
    response = api.get("/", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/js/main.js">' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/", "application/json"),
        ("/", None),
        ("/", "*/*"),
        ("/?f=json", BROWSER),
        ("/?f=html", BROWSER),
    ],
)
def test_api_clients_keep_the_landing_page(api: TestClient, url: str, accept: str | None) -> None:
    response = api.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert "/web/js/main.js" not in response.text
    assert "conformance" in response.text


@pytest.mark.parametrize(
    ("path", "cache"),
    [
        ("/web/vendor/maplibre-gl.js", "public, max-age=86400"),
        ("/web/vendor/terra-draw.js", "public, max-age=86400"),
        ("/web/vendor/leaflet.css", "public, max-age=86400"),
        ("/web/js/main.js", "no-cache"),
        ("/web/css/dashboard.css", "no-cache"),
    ],
)
def test_files_are_served_with_caching_headers(api: TestClient, path: str, cache: str) -> None:
    response = api.get(path)
    assert response.status_code == 200 and response.headers["cache-control"] == cache
    again = api.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/web/vendor/lodash.js",
        "/web/vendor/..%2Fpackage.json",
        "/web/..%2F..%2Fpyproject.toml",
        "/web/../api/app.py",
        "/web/js/nope.js",
    ],
)
def test_nothing_outside_the_dashboard_is_served(api: TestClient, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert "[project]" not in response.text and "def create_app" not in response.text
