"""OGC API Features Part 4 over HTTP: status codes, ETags, bodies and problem responses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from layers.access.auth import create_key
from layers.catalog import LAYERS
from layers.editing.edits import current_version
from layers.errors import FeatureNotFound
from layers.settings import DatabaseSettings
from layers.tables import areas, audit_log

BODY_LIMIT = 16 * 1024
SQUARE = [[128.17, -3.71], [128.19, -3.71], [128.19, -3.69], [128.17, -3.69], [128.17, -3.71]]
AREA = {
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    "properties": {"name": "Banjir Batu Merah", "hazard": "banjir"},
}
TPS = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [128.18, -3.70]},
    "properties": {"name": "TPS Mardika", "tps_type": "tps", "capacity_m3": 4},
}
EDITORS = {"response_areas": ("bpbd-editor", AREA), "dumping_points": ("dlhp-editor", TPS)}


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """A client on an app that serves the editing routes, sharing the rolled-back session."""
    settings = ApiSettings(db=DatabaseSettings(url=database_url), max_body_bytes=BODY_LIMIT)  # type: ignore[arg-type]
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


def bearer(session: Session, *roles: str) -> dict[str, str]:
    key = create_key(session.connection(), "editing-test", roles)
    return {"Authorization": f"Bearer {key.secret}"}


def created(
    client: TestClient, session: Session, layer_id: str = "response_areas"
) -> tuple[str, dict[str, str]]:
    """Create a feature as the layer's editor; return its item path and the editor's headers."""
    role, feature = EDITORS[layer_id]
    headers = bearer(session, role)
    response = client.post(f"/collections/{layer_id}/items", json=feature, headers=headers)
    assert response.status_code == 201, response.text
    return f"/collections/{layer_id}/items/{response.json()['id']}", headers


def stored_area(session: Session, path: str) -> tuple[Any, ...]:
    area_id = int(path.rsplit("/", 1)[1])
    cols = (
        areas.c.version,
        areas.c.name,
        areas.c.properties,
        func.ST_AsEWKB(areas.c.geom),
        areas.c.deleted_at,
    )
    return tuple(session.execute(select(*cols).where(areas.c.id == area_id)).one())


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("layer_id", EDITORS)
def test_post_returns_201_with_location_and_etag(client: TestClient, session: Session, layer_id: str) -> None:
    role, feature = EDITORS[layer_id]
    response = client.post(f"/collections/{layer_id}/items", json=feature, headers=bearer(session, role))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 1 and response.headers["etag"] == '"1"'
    assert response.headers["location"].endswith(f"/collections/{layer_id}/items/{body['id']}")


@pytest.mark.parametrize("layer_id", EDITORS)
def test_put_with_current_etag_bumps_version(client: TestClient, session: Session, layer_id: str) -> None:
    path, headers = created(client, session, layer_id)
    feature = EDITORS[layer_id][1]
    renamed = {**feature, "properties": {**feature["properties"], "name": "Renamed"}}  # type: ignore[dict-item]
    response = client.put(path, json=renamed, headers={**headers, "If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"' and response.json()["version"] == 2


@pytest.mark.parametrize("layer_id", EDITORS)
def test_feature_read_and_sent_back_is_accepted(client: TestClient, session: Session, layer_id: str) -> None:
    path, headers = created(client, session, layer_id)
    read = client.get(path, headers=headers)
    feature = read.json()
    feature["properties"]["name"] = "Dibaca lalu disimpan"
    response = client.put(path, json=feature, headers={**headers, "If-Match": read.headers["etag"]})
    assert response.status_code == 200, response.text
    assert client.get(path, headers=headers).json()["properties"]["name"] == "Dibaca lalu disimpan"


@pytest.mark.parametrize("media_type", ["application/merge-patch+json", "application/json"])
def test_patch_accepts_merge_patch_and_json(client: TestClient, session: Session, media_type: str) -> None:
    path, headers = created(client, session, "dumping_points")
    body = json.dumps({"properties": {"capacity_m3": 12, "address": "Jl. Pantai"}})
    response = client.patch(
        path, content=body, headers={**headers, "Content-Type": media_type, "If-Match": 'W/"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'


def test_delete_returns_204_and_the_feature_is_gone(client: TestClient, session: Session) -> None:
    path, headers = created(client, session, "dumping_points")
    assert client.delete(path, headers=headers).status_code == 204
    with pytest.raises(FeatureNotFound):
        current_version(session.connection(), LAYERS["dumping_points"], int(path.rsplit("/", 1)[1]))
    assert_problem(client.delete(path, headers=headers), 404)


def test_every_change_writes_one_audit_row_naming_the_key(client: TestClient, session: Session) -> None:
    path, headers = created(client, session)
    client.patch(path, json={"properties": {"notes": "evakuasi"}}, headers=headers)
    client.delete(path, headers=headers)
    target = audit_log.c.target_id == path.rsplit("/", 1)[1]
    rows = session.execute(
        select(audit_log.c.action, audit_log.c.actor).where(target).order_by(audit_log.c.id)
    )
    assert list(rows) == [(a, "key:editing-test") for a in ("create", "update", "delete")]


@pytest.mark.parametrize(
    ("roles", "layer_id", "status"),
    [
        ((), "dumping_points", 403),
        (("bpbd-editor",), "dumping_points", 403),
        (("dlhp-editor",), "taxpayers", 404),
        ((), "response_areas", 404),
        (("dlhp-editor",), "no_such_layer", 404),
    ],
    ids=["anonymous", "other-agency", "hidden-layer", "anonymous-internal", "unknown"],
)
def test_callers_without_edit_rights_are_refused(
    client: TestClient, session: Session, roles: tuple[str, ...], layer_id: str, status: int
) -> None:
    headers = bearer(session, *roles) if roles else {}
    response = client.post(f"/collections/{layer_id}/items", json=TPS, headers=headers)
    assert_problem(response, status)


@pytest.mark.parametrize("field", ["id", "agency", "created_at", "deleted_at", "updated_by"])
def test_server_owned_property_is_400_naming_it(client: TestClient, session: Session, field: str) -> None:
    feature = {**AREA, "properties": {**AREA["properties"], field: 1}}  # type: ignore[dict-item]
    response = client.post(
        "/collections/response_areas/items", json=feature, headers=bearer(session, "bpbd-editor")
    )
    assert field in assert_problem(response, 400)["detail"]


BAD_GEOMETRIES = {
    "self-intersection": (
        [[[128.1, -3.7], [128.2, -3.6], [128.2, -3.7], [128.1, -3.6], [128.1, -3.7]]],
        "Polygon",
        "Self-intersection",
    ),
    "wrong-type": ([128.18, -3.7], "Point", "polygon"),
    "out-of-range": ([[[128.1, -3.7], [128.2, 95], [128.2, -3.7], [128.1, -3.7]]], "Polygon", "latitude"),
    "unclosed-ring": (
        [[[128.1, -3.7], [128.2, -3.6], [128.2, -3.7], [128.1, -3.65]]],
        "Polygon",
        "not closed",
    ),
}


@pytest.mark.parametrize(("coords", "kind", "reason"), BAD_GEOMETRIES.values(), ids=BAD_GEOMETRIES.keys())
def test_bad_geometry_is_400_and_row_unchanged(
    client: TestClient, session: Session, coords: Any, kind: str, reason: str
) -> None:
    path, headers = created(client, session)
    before = stored_area(session, path)
    bad = {**AREA, "geometry": {"type": kind, "coordinates": coords}}
    response = client.put(path, json=bad, headers={**headers, "Accept-Language": "en"})
    assert reason in assert_problem(response, 400)["detail"]
    assert stored_area(session, path) == before


def test_stale_if_match_is_412_and_row_unchanged(client: TestClient, session: Session) -> None:
    path, headers = created(client, session)
    client.patch(path, json={"properties": {"notes": "v2"}}, headers=headers)
    before = stored_area(session, path)
    response = client.put(path, json=AREA, headers={**headers, "If-Match": '"1"'})
    assert assert_problem(response, 412)["current_version"] == 2
    assert stored_area(session, path) == before


@pytest.mark.parametrize("value", ["1", '"x"', '"1", "2"', "W/1", '"1234567890"', ""])
def test_malformed_if_match_is_400(client: TestClient, session: Session, value: str) -> None:
    path, headers = created(client, session)
    response = client.delete(path, headers={**headers, "If-Match": value})
    assert "If-Match" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_too_large_is_413(client: TestClient, session: Session, chunked: bool) -> None:
    feature = {**AREA, "properties": {**AREA["properties"], "notes": "x" * BODY_LIMIT}}  # type: ignore[dict-item]
    raw = json.dumps(feature).encode()
    # A generator body is sent without Content-Length, so only the streamed count can catch it.
    content: Any = (raw[i : i + 4096] for i in range(0, len(raw), 4096)) if chunked else raw
    headers = bearer(session, "bpbd-editor") | {"Content-Type": "application/json"}
    assert_problem(client.post("/collections/response_areas/items", content=content, headers=headers), 413)


@pytest.mark.parametrize(
    "media_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_other_content_types_are_415(client: TestClient, session: Session, media_type: str | None) -> None:
    headers = bearer(session, "bpbd-editor") | ({"Content-Type": media_type} if media_type else {})
    response = client.post("/collections/response_areas/items", content=json.dumps(AREA), headers=headers)
    assert_problem(response, 415)


@pytest.mark.parametrize("depth", [65, 3000])
def test_deeply_nested_json_is_400(client: TestClient, session: Session, depth: int) -> None:
    nested = '{"type":"Feature","properties":{"notes":' + "[" * depth + "]" * depth + "}}"
    headers = bearer(session, "bpbd-editor") | {"Content-Type": "application/json", "Accept-Language": "en"}
    response = client.post("/collections/response_areas/items", content=nested, headers=headers)
    assert "nested deeper than 64" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b'{"a": NaN}', b"\xff\xfe{", b""])
def test_non_object_json_is_400(client: TestClient, session: Session, raw: bytes) -> None:
    headers = bearer(session, "bpbd-editor") | {"Content-Type": "application/geo+json"}
    response = client.post("/collections/response_areas/items", content=raw, headers=headers)
    assert_problem(response, 400)


def test_history_lists_versions_newest_first(client: TestClient, session: Session) -> None:
    path, headers = created(client, session)
    client.patch(path, json={"properties": {"state": "active"}}, headers=headers)
    client.delete(path, headers=headers)
    response = client.get(f"{path}/history", headers=headers)
    assert response.status_code == 200, response.text
    versions = response.json()["versions"]
    assert [(v["version"], v["deleted"]) for v in versions] == [(3, True), (2, False), (1, False)]
    assert versions[1]["properties"]["state"] == "active"


@pytest.mark.parametrize(
    ("roles", "status"), [(("dlhp-editor",), 403), ((), 404)], ids=["reader", "anonymous"]
)
def test_history_is_for_editors_only(
    client: TestClient, session: Session, roles: tuple[str, ...], status: int
) -> None:
    path, _ = created(client, session)
    headers = bearer(session, *roles) if roles else {}
    assert_problem(client.get(f"{path}/history", headers=headers), status)


def test_deleted_area_is_restored_as_a_new_version(client: TestClient, session: Session) -> None:
    path, headers = created(client, session)
    client.delete(path, headers={**headers, "If-Match": '"1"'})
    response = client.post(f"{path}/restore", headers=headers)
    assert response.status_code == 200 and response.headers["etag"] == '"3"'
    assert stored_area(session, path)[4] is None
