"""Counts per live status for legends and KPIs: consistent with the features, policy-checked, filterable."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from layers.access.auth import create_key

CENTRE = (
    "S_INTERSECTS(geometry, POLYGON((128.15 -3.72, 128.21 -3.72, 128.21 -3.68, 128.15 -3.68, 128.15 -3.72)))"
)


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The shared in-process client (conftest), which serves every route."""
    return client


def key(session: Session, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(session.connection(), 'counts-test', [role]).secret}"}


def counted(
    api: TestClient, layer_id: str, headers: dict[str, str] | None = None, **params: str
) -> dict[str, object]:
    response = api.get(f"/collections/{layer_id}/counts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("layer_id", ["cctv", "dumping_points", "das_stations", "city_apps"])
def test_counts_agree_with_the_features(api: TestClient, session: Session, layer_id: str) -> None:
    staff = key(session, "kominfo-operator")
    items = api.get(f"/collections/{layer_id}/items", params={"limit": 10000}, headers=staff)
    features = items.json()["features"]
    fresh = Counter(f["properties"]["status"] for f in features if not f["properties"]["stale"])
    body = counted(api, layer_id, headers=staff)
    assert body["total"] == len(features)
    assert body["stale"] == sum(1 for f in features if f["properties"]["stale"])
    assert {k: v for k, v in body["statuses"].items() if v} == dict(fresh)  # type: ignore[attr-defined]


def test_every_status_of_the_vocabulary_is_listed(api: TestClient) -> None:
    assert list(counted(api, "das_stations")["statuses"]) == ["normal", "waspada", "siaga", "awas"]  # type: ignore[arg-type]


@pytest.mark.parametrize("params", [{"bbox": "128.15,-3.72,128.21,-3.68"}, {"filter": CENTRE}])
def test_counts_narrow_to_a_bbox_or_a_filter(api: TestClient, params: dict[str, str]) -> None:
    everything = counted(api, "dumping_points")["total"]
    inside = counted(api, "dumping_points", **params)["total"]
    matched = api.get("/collections/dumping_points/items", params={"limit": 1, **params}).json()
    assert 0 < inside < everything  # type: ignore[operator]
    assert inside == matched["numberMatched"]


def test_internal_layers_are_hidden_from_anonymous(api: TestClient) -> None:
    assert api.get("/collections/city_apps/counts").status_code == 404


def test_layers_without_status_count_their_features(api: TestClient) -> None:
    body = counted(api, "districts")
    assert body == {"collection": "districts", "total": 5, "statuses": {}, "stale": 0, "labels": {}}


@pytest.mark.parametrize(("lang", "label"), [("id", "Daring"), ("en", "Online")])
def test_counts_carry_status_labels_in_the_language(api: TestClient, lang: str, label: str) -> None:
    assert counted(api, "cctv", lang=lang)["labels"]["online"] == label  # type: ignore[index]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/collections/taxpayers/counts", 404),
        ("/collections/nope/counts", 404),
        ("/collections/cctv/counts?bbox=1,2,3", 400),
        ("/collections/cctv/counts?filter=secret_column%20%3D%201", 400),
        ("/collections/cctv/counts?filter=name%20%3D%20'x'&filter-lang=sql", 400),
    ],
)
def test_refusals_are_problem_bodies(api: TestClient, path: str, status: int) -> None:
    response = api.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
