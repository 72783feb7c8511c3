"""The callers the API-document tests play (anonymous, a signed-in BPPRD analyst) against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import Engine, text

from layers.access.auth import create_key

# A BPPRD analyst sees every public and internal layer, the confidential taxpayers and every query layer.
CALLERS: dict[str, tuple[str, ...]] = {"anonymous": (), "bpprd": ("bpprd-analyst",)}


@contextmanager
def caller_headers(engine: Engine, caller: str) -> Iterator[dict[str, str]]:
    """Yield the request headers of `caller`: none, or a committed API key that is deleted afterwards."""
    roles = CALLERS[caller]
    if not roles:
        yield {}
        return
    with engine.begin() as conn:
        key = create_key(conn, f"api-document-{caller}", list(roles))
    try:
        yield {"Authorization": f"Bearer {key.secret}"}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM api_keys WHERE id = :i"), {"i": key.id})


def get_json(url: str, headers: dict[str, str]) -> Any:
    """GET a JSON document, failing the test on any status but 200."""
    response = httpx.get(url, headers={"Accept": "application/json", **headers}, timeout=60)
    assert response.status_code == 200, f"GET {url}: {response.status_code} {response.text[:500]}"
    return response.json()


def collection_ids(server_url: str, headers: dict[str, str]) -> list[str]:
    """Return the ids /collections lists for the caller, in its order."""
    return [c["id"] for c in get_json(f"{server_url}/collections", headers)["collections"]]
