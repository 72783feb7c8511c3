"""Requests too large for a URL have a way in, and every oversize request gets a problem body (issue 14,
items 2 and 11), over a real `kendali serve`: long URLs (414), huge headers (431), unreadable requests
(400), and query layers asked with their parameters as a POST body."""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.api._api_callers import caller_headers

PROBLEM = "application/problem+json"
LAYERS = ["dumping_points", "cctv"]


def _ring(vertices: int, radius: float = 0.02) -> list[list[float]]:
    """A closed circle of `vertices` points around central Ambon, at full float precision."""
    points = [
        [
            128.18 + radius * math.cos(2 * math.pi * i / vertices),
            -3.69 + radius * math.sin(2 * math.pi * i / vertices),
        ]
        for i in range(vertices)
    ]
    return [*points, points[0]]


def _polygon(vertices: int) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [_ring(vertices)]}


def _wkt(vertices: int) -> str:
    return "POLYGON((" + ",".join(f"{x} {y}" for x, y in _ring(vertices)) + "))"


@pytest.fixture(scope="module")
def analyst(engine: Engine) -> Iterator[dict[str, str]]:
    with caller_headers(engine, "bpprd") as headers:
        yield headers


def _raw(server_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client would send these) and read the whole answer."""
    parts = urlsplit(server_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _is_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict[str, Any]:
    assert status == expected, body[:300]
    assert headers["content-type"].startswith(PROBLEM)
    doc: dict[str, Any] = json.loads(body)
    assert doc["status"] == expected
    return doc


def test_a_long_url_is_a_414_problem_in_the_callers_language(server_url: str) -> None:
    name = "a" * 62_000  # past the API's limit, within what the HTTP parser reads
    response = httpx.get(
        f"{server_url}/collections/dumping_points/items?name={name}", headers={"Accept-Language": "en"}
    )
    doc = _is_problem(response.status_code, dict(response.headers), response.content, 414)
    assert "POST" in doc["detail"] and doc["limit"] == 61_440
    response = httpx.get(f"{server_url}/collections/dumping_points/items?name={name}")
    assert "bita" in response.json()["detail"]


def test_a_cql2_filter_with_a_long_polygon_literal_is_a_problem_not_plain_text(server_url: str) -> None:
    cql = quote(f"S_INTERSECTS(geometry,{_wkt(3_000)})")  # ~100 KB: past what the parser itself reads
    request = (
        f"GET /collections/dumping_points/items?filter={cql} HTTP/1.1\r\nHost: x\r\n"
        "Accept-Language: en\r\nConnection: close\r\n\r\n"
    ).encode()
    doc = _is_problem(*_raw(server_url, request), 414)
    assert doc["code"] == "uri_too_long" and doc["title"] == "URI too long"


def test_huge_headers_are_a_431_problem(server_url: str) -> None:
    request = b"GET /collections HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    doc = _is_problem(*_raw(server_url, request), 431)
    assert doc["code"] == "headers_too_large"


@pytest.mark.parametrize(
    "request_bytes",
    [b"NOT HTTP AT ALL\r\n\r\n", b"GET /collections HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"],
)
def test_an_unreadable_request_is_a_400_problem(server_url: str, request_bytes: bytes) -> None:
    doc = _is_problem(*_raw(server_url, request_bytes), 400)
    assert doc["code"] == "malformed_request" and doc["detail"] == "permintaan HTTP tidak terbaca"


def _inside(engine: Engine, area: dict[str, Any]) -> int:
    """Count the assets of LAYERS inside `area` independently of the API."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM assets WHERE layer_id = ANY(:layers)"
                    " AND ST_Intersects(geom, ST_GeomFromGeoJSON(:area))"
                ),
                {"layers": LAYERS, "area": json.dumps(area)},
            ).scalar_one()
        )


def test_a_query_layer_takes_an_area_too_large_for_a_url_as_a_post_body(
    server_url: str, analyst: dict[str, str], engine: Engine
) -> None:
    area = _polygon(5_000)  # ~200 KB of GeoJSON: no URL could carry it
    body = {"geometry": area, "layers": LAYERS, "limit": 40}
    url = f"{server_url}/collections/in_area/items"
    first = httpx.post(url, json=body, headers=analyst, timeout=60)
    assert first.status_code == 200, first.text[:500]
    page = first.json()
    expected = _inside(engine, area)
    assert expected > 40
    assert page["numberMatched"] == expected and page["numberReturned"] == 40
    links = {link["rel"]: link for link in page["links"]}
    assert links["self"]["method"] == "POST" and links["self"]["body"] == body
    assert "geometry" not in first.headers["link"]  # the header names only what a URL can carry
    seen = [f["id"] for f in page["features"]]
    while "next" in links:  # follow the POST links to the end
        step = httpx.post(links["next"]["href"], json=links["next"]["body"], headers=analyst, timeout=60)
        assert step.status_code == 200, step.text[:500]
        seen += [f["id"] for f in step.json()["features"]]
        links = {link["rel"]: link for link in step.json()["links"]}
    assert len(seen) == len(set(seen)) == expected


def test_post_and_get_give_the_same_answer(server_url: str, analyst: dict[str, str]) -> None:
    area = _polygon(60)
    url = f"{server_url}/collections/in_area/items"
    query = {"geometry": json.dumps(area), "layers": ",".join(LAYERS), "limit": "500"}
    by_get = httpx.get(url, params=query, headers=analyst, timeout=60)
    by_post = httpx.post(url, json={"geometry": area, "layers": LAYERS, "limit": 500}, headers=analyst)
    assert by_get.status_code == by_post.status_code == 200, by_post.text[:300]
    assert by_get.json()["features"] == by_post.json()["features"]
    assert by_get.json()["features"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"geometry": _polygon(12_000)}, 400, "10000 vertices"),
        ({"geometry": _polygon(50), "bogus": 1}, 400, "bogus"),
        ({"geometry": _polygon(50), "limit": 0}, 400, "limit"),
        ([1, 2], 400, "object"),
    ],
)
def test_post_bodies_keep_every_limit(
    server_url: str, analyst: dict[str, str], body: Any, status: int, says: str
) -> None:
    response = httpx.post(
        f"{server_url}/collections/in_area/items",
        json=body,
        headers={**analyst, "Accept-Language": "en"},
        timeout=60,
    )
    doc = _is_problem(response.status_code, dict(response.headers), response.content, status)
    assert says in doc["detail"]


def test_a_deeply_nested_cql2_json_filter_in_a_body_is_a_problem(
    server_url: str, analyst: dict[str, str]
) -> None:
    nested = '{"op":"=","args":[{"property":"layer_id"},"cctv"]}'
    for _ in range(2_000):
        nested = '{"op":"not","args":[' + nested + "]}"
    raw = '{"geometry":' + json.dumps(_polygon(50)) + ',"filter-lang":"cql2-json","filter":' + nested + "}"
    response = httpx.post(
        f"{server_url}/collections/in_area/items",
        content=raw,
        headers={**analyst, "Content-Type": "application/json"},
        timeout=60,
    )
    _is_problem(response.status_code, dict(response.headers), response.content, 400)


def test_an_oversize_body_is_a_413_problem(server_url: str, analyst: dict[str, str]) -> None:
    response = httpx.post(
        f"{server_url}/collections/in_area/items",
        content=b'{"geometry": "' + b"1" * (11 * 1024 * 1024) + b'"}',
        headers={**analyst, "Content-Type": "application/json"},
        timeout=60,
    )
    _is_problem(response.status_code, dict(response.headers), response.content, 413)


def test_the_document_offers_the_post_body_for_each_query_layer(
    server_url: str, analyst: dict[str, str]
) -> None:
    doc = httpx.get(f"{server_url}/api", headers=analyst, timeout=60).json()
    post = doc["paths"]["/collections/in_area/items"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"geometry", "layers", "limit", "filter"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
