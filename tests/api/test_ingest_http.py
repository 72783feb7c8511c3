"""`POST /ingest/status`: per-report outcomes, idempotent retries, out-of-order safety, keys, bounds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from geo.tiles import TMS, TileKey
from layers.access.auth import create_key
from layers.access.policy import ANONYMOUS, field_view
from layers.catalog import LAYERS
from layers.settings import DatabaseSettings
from layers.tiles.cache import CACHE
from tests.api._live_support import Committed, committed, reports

PUSH = "/ingest/status"


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """A client on an app that serves the ingest route, sharing the rolled-back session."""
    app = create_app(ApiSettings(db=DatabaseSettings(url=database_url)))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


def bearer(session: Session, *roles: str) -> dict[str, str]:
    key = create_key(session.connection(), "ingest-test", roles)
    return {"Authorization": f"Bearer {key.secret}"}


def tps(session: Session, n: int = 0) -> tuple[int, str]:
    row = session.execute(
        text(
            "SELECT id, external_id FROM assets WHERE layer_id = 'dumping_points' "
            "ORDER BY id OFFSET :n LIMIT 1"
        ),
        {"n": n},
    ).one()
    return int(row.id), str(row.external_id)


def at(seconds: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=1 + seconds)).isoformat()


def latest(session: Session, asset_id: int) -> tuple[str, float | None]:
    row = session.execute(
        text("SELECT status, value FROM asset_status WHERE asset_id = :a"), {"a": asset_id}
    ).one()
    return str(row.status), row.value


def test_good_reports_are_stored_while_bad_ones_are_rejected_with_reasons(
    client: TestClient, session: Session
) -> None:
    (first, _), (second, external_id) = tps(session), tps(session, 1)
    batch: list[Any] = [
        {"asset_id": first, "status": "full", "value": 91, "observed_at": at()},
        {"layer": "dumping_points", "external_id": external_id, "status": "half", "observed_at": at()},
        {"asset_id": first, "status": "burning", "observed_at": at(-1)},
        {"asset_id": first, "status": "full"},
        "not a report",
        {"layer": "dumping_points", "external_id": "NO-SUCH", "status": "full", "observed_at": at()},
    ]
    response = client.post(PUSH, json={"reports": batch}, headers=bearer(session, "dlhp-operator"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 4)
    outcomes = [(r["index"], r["outcome"], r["asset_id"]) for r in body["results"]]
    assert outcomes[:3] == [(0, "accepted", first), (1, "accepted", second), (2, "rejected", None)]
    assert all(r["reason"] for r in body["results"][2:]) and "observed_at" in body["results"][3]["reason"]
    assert latest(session, first) == ("full", 91.0) and latest(session, second)[0] == "half"


def test_retrying_a_batch_reports_duplicates_and_stores_once(client: TestClient, session: Session) -> None:
    asset_id, _ = tps(session)
    batch = [{"asset_id": asset_id, "status": "half", "observed_at": at(), "source": "retry-test"}]
    headers = bearer(session, "dlhp-operator")
    first = client.post(PUSH, json=batch, headers=headers).json()
    again = client.post(PUSH, json=batch, headers=headers).json()
    assert (first["accepted"], again["accepted"], again["duplicates"]) == (1, 0, 1)
    stored = session.execute(
        text("SELECT count(*) FROM observations WHERE asset_id = :a AND source = 'retry-test'"),
        {"a": asset_id},
    ).scalar_one()
    assert stored == 1


def test_a_late_report_does_not_replace_a_newer_latest(client: TestClient, session: Session) -> None:
    asset_id, _ = tps(session)
    headers = bearer(session, "dlhp-operator")
    client.post(
        PUSH, json=[{"asset_id": asset_id, "status": "overflow", "observed_at": at()}], headers=headers
    )
    late = client.post(
        PUSH, json=[{"asset_id": asset_id, "status": "empty", "observed_at": at(-300)}], headers=headers
    )
    assert late.json()["results"][0]["outcome"] == "accepted"
    assert latest(session, asset_id)[0] == "overflow"


def test_a_committed_push_retires_the_cached_tiles_it_touched(client: TestClient, session: Session) -> None:
    asset_id, _ = tps(session, 3)
    lon, lat = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM assets WHERE id = :a"), {"a": asset_id}
    ).one()
    near, far = TMS.tile(lon, lat, 16), TileKey(16, 10, 10)
    parts = [(LAYERS["dumping_points"], field_view(ANONYMOUS, LAYERS["dumping_points"]))]
    tiles = [TileKey(near.z, near.x, near.y), far]
    before = [CACHE.key(parts, t) for t in tiles]
    batch = [{"asset_id": asset_id, "status": "full", "observed_at": at()}]
    assert client.post(PUSH, json=batch, headers=bearer(session, "dlhp-operator")).json()["accepted"] == 1
    after = [CACHE.key(parts, t) for t in tiles]
    assert after[0] != before[0] and after[1] == before[1]


def test_a_key_of_another_agency_is_refused_per_report(client: TestClient, session: Session) -> None:
    asset_id, _ = tps(session)
    batch = [{"asset_id": asset_id, "status": "full", "observed_at": at()}]
    response = client.post(f"{PUSH}?lang=en", json=batch, headers=bearer(session, "kominfo-operator"))
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert (result["outcome"], result["asset_id"]) == ("rejected", None) and "not allowed" in result["reason"]


@pytest.mark.parametrize(("roles", "status"), [((), 401), (("dishub-viewer",), 403)])
def test_pushing_needs_a_key_that_may_report(
    client: TestClient, session: Session, roles: tuple[str, ...], status: int
) -> None:
    headers = bearer(session, *roles) if roles else {}
    response = client.post(PUSH, json=[], headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (json.dumps([{}] * 10_001).encode(), 413),
        (b"[" + b" " * (10 * 1024 * 1024) + b"]", 413),
        (b"[" * 50 + b"]" * 50, 400),
        (b"{not json", 400),
        (b'{"reports": "all"}', 400),
    ],
)
def test_a_body_that_is_no_acceptable_batch_is_refused(
    client: TestClient, session: Session, body: bytes, status: int
) -> None:
    headers = bearer(session, "dlhp-operator") | {"Content-Type": "application/json"}
    response = client.post(PUSH, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["status"] == status


def test_a_body_that_is_not_json_typed_is_refused(client: TestClient, session: Session) -> None:
    headers = bearer(session, "dlhp-operator") | {"Content-Type": "text/plain"}
    assert client.post(PUSH, content=b"[]", headers=headers).status_code == 415


@pytest.fixture
def rows(engine: Engine) -> Iterator[Committed]:
    yield from committed(engine, "http-push-test")


def test_a_real_client_gets_its_outcomes_after_commit(
    server_url: str, engine: Engine, rows: Committed
) -> None:
    asset_id = rows.assets("das_stations")[0]
    batch = reports([asset_id], "siaga", rows.source, value=2.5) + [{"asset_id": asset_id, "status": "dry"}]
    response = httpx.post(f"{server_url}{PUSH}", json=batch, headers=rows.key("bpbd-operator"))
    assert response.status_code == 200, response.text
    assert [r["outcome"] for r in response.json()["results"]] == ["accepted", "rejected"]
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT status, value FROM asset_status WHERE asset_id = :a AND source = :s"),
            {"a": asset_id, "s": rows.source},
        ).one()
    assert tuple(stored) == ("siaga", 2.5)
