"""An asset's recent observations for the dashboard's chart: policy-checked, values per field view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.access.auth import create_key


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The shared in-process client (conftest), which serves every route."""
    return client


def first_asset(session: Session, layer_id: str) -> int:
    sql = text("SELECT min(id) FROM assets WHERE layer_id = :layer")
    return int(session.execute(sql, {"layer": layer_id}).scalar_one())


def key(session: Session, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(session.connection(), 'history-test', [role]).secret}"}


def observations(api: TestClient, layer_id: str, asset_id: int, **kw: object) -> dict[str, object]:
    response = api.get(f"/collections/{layer_id}/items/{asset_id}/observations", **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_observations_are_the_last_day_oldest_first(api: TestClient, session: Session) -> None:
    body = observations(api, "cctv", first_asset(session, "cctv"))
    points = body["observations"]
    times = [datetime.fromisoformat(p["time"]) for p in points]  # type: ignore[attr-defined]
    assert len(points) > 10 and times == sorted(times)  # type: ignore[arg-type]
    assert times[0] > datetime.now(UTC) - timedelta(hours=24, minutes=1)
    assert {p["status"] for p in points} <= {"online", "offline"}  # type: ignore[attr-defined]


def test_hours_narrows_the_window(api: TestClient, session: Session) -> None:
    asset = first_asset(session, "das_stations")
    day = observations(api, "das_stations", asset)["observations"]
    hour = observations(api, "das_stations", asset, params={"hours": 2})["observations"]
    assert 0 < len(hour) < len(day)  # type: ignore[arg-type]


@pytest.mark.parametrize(("role", "shown"), [("bpprd-analyst", True), ("bpprd-viewer", False)])
def test_taxpayer_amounts_follow_the_field_view(
    api: TestClient, session: Session, role: str, shown: bool
) -> None:
    body = observations(api, "taxpayers", first_asset(session, "taxpayers"), headers=key(session, role))
    values = [p["value"] for p in body["observations"]]  # type: ignore[attr-defined]
    assert values and any(v is not None for v in values) is shown
    assert (body["unit"] == "IDR") is shown


def test_taxpayers_are_invisible_to_anonymous(api: TestClient, session: Session) -> None:
    response = api.get(f"/collections/taxpayers/items/{first_asset(session, 'taxpayers')}/observations")
    assert response.status_code == 404
    assert "taxpayers" not in response.json().get("observations", "")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/collections/cctv/items/999999999/observations", 404),
        ("/collections/cctv/items/{dumping}/observations", 404),
        ("/collections/cctv/items/{cctv}/observations?hours=0", 400),
        ("/collections/cctv/items/{cctv}/observations?hours=100000", 400),
        ("/collections/cctv/items/abc/observations", 400),
        ("/collections/districts/items/{district}/observations", 400),
    ],
)
def test_bad_requests_get_problem_bodies(api: TestClient, session: Session, path: str, status: int) -> None:
    ids = {
        k: first_asset(session, layer)
        for k, layer in (("dumping", "dumping_points"), ("cctv", "cctv"), ("district", "districts"))
    }
    response = api.get(path.format(**ids))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
