"""A layer a caller may not see is invisible in metadata too (issue 14, item 4): every public document,
fetched as each role from a real server, names no id or title of a layer or query layer hidden from it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, text

from layers.access.auth import create_key
from layers.access.policy import ANONYMOUS, Action, Principal, allows, principal_for
from layers.catalog import LAYERS
from layers.queries.access import readable_queries
from layers.queries.catalog import QUERIES

# Each role misses something: the public sees no internal or confidential layer, an agency operator
# no confidential one.
ROLES: dict[str, tuple[str, ...]] = {
    "anonymous": (),
    "dlhp-operator": ("dlhp-operator",),
    "bpbd-editor": ("bpbd-editor",),
}
# Requests whose answers are errors built from the caller's own words about something else.
ERRORS = (
    "/collections/in_area/items?layers=nope",
    "/collections/density/items?layer=nope",
    "/tiles/nope.json",
    "/tiles/nope/10/900/520.mvt",
    "/export?collections=nope&f=csv",
    "/collections/nope",
    "/styles/nope.json",
)


def _principal(role: str) -> Principal:
    roles = ROLES[role]
    return principal_for(role, roles, kind="key") if roles else ANONYMOUS


def _hidden_names(principal: Principal) -> set[str]:
    hidden: set[str] = set()
    for layer in LAYERS.values():
        if not allows(principal, Action.READ, layer):
            hidden |= {layer.id, layer.title.id, layer.title.en}
    shown = {spec.id for spec in readable_queries(principal)}
    for spec in QUERIES.values():
        if spec.id not in shown:
            hidden |= {spec.id, spec.title.id, spec.title.en}
    return hidden


def _pattern(names: set[str]) -> re.Pattern[str]:
    """Whole names only: `response_areas` is not found inside `active_response_areas`."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


@pytest.fixture(scope="module", params=list(ROLES))
def caller(request: pytest.FixtureRequest, engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    role: str = request.param
    if not ROLES[role]:
        yield role, {}
        return
    with engine.begin() as conn:
        key = create_key(conn, f"metadata-{role}", list(ROLES[role]))
    try:
        yield role, {"Authorization": f"Bearer {key.secret}"}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM api_keys WHERE id = :i"), {"i": key.id})


def _documents(server_url: str, headers: dict[str, str]) -> list[str]:
    """Every document a caller can reach without naming a hidden layer."""
    paths = ["/", "/conformance", "/collections", "/api", "/auth/me", "/alerts", "/alert-rules"]
    paths += ["/basemaps", "/rasters", "/tileMatrixSets", "/qgis/project.qgs", "/report"]
    basemaps = httpx.get(f"{server_url}/basemaps", headers=headers, timeout=60).json()
    paths += [f"/styles/{b['id']}.json" for b in basemaps["basemaps"]]
    listed = httpx.get(f"{server_url}/collections", headers=headers, timeout=60).json()
    ids = [c["id"] for c in listed["collections"]]
    for cid in ids:
        base = f"/collections/{cid}"
        paths += [base, f"{base}?f=html", f"{base}/queryables", f"{base}/summary", f"{base}/tiles"]
        paths += [f"{base}/tiles/WebMercatorQuad", f"/tiles/{cid}.json", f"{base}/items?limit=3"]
    paths.append(f"/tiles/{','.join(ids[:16])}.json")
    return [*paths, *ERRORS]


def test_no_document_names_a_layer_the_caller_may_not_see(
    server_url: str, caller: tuple[str, dict[str, str]]
) -> None:
    role, headers = caller
    names = _hidden_names(_principal(role))
    leaks: list[str] = []
    for path in _documents(server_url, headers):
        # An error may repeat what the caller wrote; it must not tell of anything else.
        hidden = _pattern({n for n in names if n not in path})
        for lang in ("id", "en"):
            response = httpx.get(
                f"{server_url}{path}", headers={**headers, "Accept-Language": lang}, timeout=120
            )
            assert response.status_code < 500, f"{path}: {response.status_code}"
            found = sorted({m.group(0) for m in hidden.finditer(response.text)})
            if found:
                leaks.append(f"{path} ({lang}, {response.status_code}): {found}")
    assert not leaks, f"{role} is told of hidden layers:\n" + "\n".join(leaks)
