"""`/alerts`, `/alert-rules` and `/webhooks` over HTTP: visibility, acknowledge, paging, problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from ingest.webhooks import WebhookSettings
from layers.access.auth import create_key
from layers.access.policy import principal_for
from layers.alerts import evaluate as alerts
from layers.catalog import LAYERS
from layers.editing.edits import create_feature
from layers.live.status import StatusReport, write_reports
from layers.settings import DatabaseSettings


@contextmanager
def serving(database_url: str, session: Session, *, allow_private: bool) -> Iterator[TestClient]:
    """Yield a client on an app serving the alert routes, sharing the rolled-back session."""
    hooks = WebhookSettings(allow_private=allow_private)
    app = create_app(ApiSettings(db=DatabaseSettings(url=database_url), webhooks=hooks))  # type: ignore[arg-type]
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """A client on an app that refuses webhooks on private addresses."""
    with serving(database_url, session, allow_private=False) as c:
        yield c


@pytest.fixture
def permissive(database_url: str, session: Session) -> Iterator[TestClient]:
    """A client on an app that allows webhooks on private addresses (closed networks, tests)."""
    with serving(database_url, session, allow_private=True) as c:
        yield c


def bearer(session: Session, *roles: str) -> dict[str, str]:
    key = create_key(session.connection(), "alerts-test", roles)
    return {"Authorization": f"Bearer {key.secret}"}


def nth(conn: Connection, layer_id: str, n: int) -> int:
    sql = text("SELECT id FROM assets WHERE layer_id = :l ORDER BY id OFFSET :n LIMIT 1")
    return int(conn.execute(sql, {"l": layer_id, "n": n}).scalar_one())


def alert_on(session: Session, layer_id: str, n: int, status: str, role: str) -> int:
    """Make the n-th asset of a layer report `status` now, evaluate its rules, return its newest alert id."""
    conn = session.connection()
    asset_id = nth(conn, layer_id, n)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    principal = principal_for(f"key:{role}", [role], kind="key")
    assert write_reports(conn, principal, [StatusReport(status, at, "http-test", asset_id=asset_id)])[
        0
    ].latest
    alerts.evaluate(
        conn, at + timedelta(days=1, minutes=1), layer_ids={layer_id}, asset_ids=[asset_id], wait=True
    )
    sql = text("SELECT max(id) FROM alerts WHERE asset_id = :a AND resolved_at IS NULL")
    return int(conn.execute(sql, {"a": asset_id}).scalar_one())


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def test_alerts_are_listed_newest_first_with_links(client: TestClient, session: Session) -> None:
    older = alert_on(session, "das_stations", 0, "siaga", "bpbd-operator")
    newer = alert_on(session, "das_stations", 1, "awas", "bpbd-operator")
    body = client.get("/alerts", params={"layer": "das_stations", "lang": "en"}).json()
    ids = [a["id"] for a in body["alerts"]]
    assert ids.index(newer) < ids.index(older)
    first = body["alerts"][0]
    assert first["state"] == "open" and first["links"][1]["href"].endswith(f"/items/{first['asset']['id']}")
    assert "River station" in first["message"]


def test_paging_follows_the_next_link_to_older_alerts(client: TestClient, session: Session) -> None:
    for n in range(3):
        alert_on(session, "city_apps", n, "down", "kominfo-operator")
    headers = bearer(session, "kominfo-viewer")
    page = client.get("/alerts", params={"layer": "city_apps", "limit": 2}, headers=headers).json()
    following = next(x["href"] for x in page["links"] if x["rel"] == "next")
    rest = client.get(following, headers=headers).json()
    assert page["numberReturned"] == 2 and rest["alerts"]
    assert max(a["id"] for a in rest["alerts"]) < min(a["id"] for a in page["alerts"])


@pytest.mark.parametrize(
    ("roles", "sees"), [((), False), (("dlhp-editor",), False), (("bpprd-operator",), True)]
)
def test_taxpayer_alerts_only_for_those_who_see_taxpayers(
    client: TestClient, session: Session, roles: tuple[str, ...], sees: bool
) -> None:
    alert_id = alert_on(session, "taxpayers", 0, "offline", "bpprd-operator")
    headers = bearer(session, *roles) if roles else {}
    listed = {a["id"] for a in client.get("/alerts", params={"limit": 500}, headers=headers).json()["alerts"]}
    assert (alert_id in listed) is sees
    assert client.get(f"/alerts/{alert_id}", headers=headers).status_code == (200 if sees else 404)


def square(conn: Connection, asset_id: int, d: float = 0.01) -> list[list[float]]:
    """Return a closed ring of a small square around an asset."""
    x, y = conn.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM assets WHERE id = :a"), {"a": asset_id}
    ).one()
    return [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]


def test_area_alerts_are_hidden_from_callers_who_cannot_see_the_area(
    client: TestClient, session: Session
) -> None:
    conn = session.connection()
    ring = square(conn, nth(conn, "das_stations", 2))
    props = {"name": "Uji", "hazard": "banjir", "state": "active"}
    area = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": props}
    area_id = create_feature(
        conn, LAYERS["response_areas"], principal_for("b", ["bpbd-editor"], kind="user"), area
    ).id
    alert_on(session, "das_stations", 2, "siaga", "bpbd-operator")
    scoped = conn.execute(text("SELECT id FROM alerts WHERE area_id = :a"), {"a": area_id}).scalar_one()
    problem(client.get(f"/alerts/{scoped}"), 404)
    seen = client.get(f"/alerts/{scoped}", headers=bearer(session, "dlhp-viewer")).json()
    assert seen["area"] == {"id": area_id, "name": "Uji"}


@pytest.mark.parametrize(
    ("roles", "status"),
    [(("bpbd-operator",), 200), (("kominfo-operator",), 200), (("dlhp-editor",), 403), ((), 401)],
)
def test_acknowledge_is_for_owners_and_the_command_center(
    client: TestClient, session: Session, roles: tuple[str, ...], status: int
) -> None:
    alert_id = alert_on(session, "das_stations", 3, "siaga", "bpbd-operator")
    headers = bearer(session, *roles) if roles else {}
    response = client.post(f"/alerts/{alert_id}/acknowledge", headers=headers)
    assert response.status_code == status, response.text


def test_acknowledge_records_who_and_moves_the_alert_out_of_open(
    client: TestClient, session: Session
) -> None:
    alert_id = alert_on(session, "das_stations", 4, "siaga", "bpbd-operator")
    body = client.post(f"/alerts/{alert_id}/acknowledge", headers=bearer(session, "bpbd-operator")).json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == "key:alerts-test"
    open_ids = {a["id"] for a in client.get("/alerts", params={"limit": 500}).json()["alerts"]}
    acked = client.get("/alerts", params={"state": "acknowledged", "limit": 500}).json()["alerts"]
    assert alert_id not in open_ids and alert_id in {a["id"] for a in acked}


def test_acknowledging_a_resolved_alert_is_a_conflict(client: TestClient, session: Session) -> None:
    alert_id = alert_on(session, "city_apps", 5, "down", "kominfo-operator")
    session.connection().execute(text("UPDATE alerts SET resolved_at = now() WHERE id = :i"), {"i": alert_id})
    problem(client.post(f"/alerts/{alert_id}/acknowledge", headers=bearer(session, "kominfo-operator")), 409)


def test_unknown_state_is_a_400_problem(client: TestClient) -> None:
    problem(client.get("/alerts", params={"state": "burning"}), 400)


RULE = {"layer": "cctv", "condition": {"statuses": ["offline"]}, "scope": {"kind": "active_response_areas"}}


def test_area_rule_is_created_listed_and_deleted(client: TestClient, session: Session) -> None:
    headers = bearer(session, "bpbd-supervisor")
    created = client.post("/alert-rules", json=RULE, headers=headers)
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    assert created.headers["location"].endswith(f"/alert-rules/{rule_id}")
    assert rule_id in {r["id"] for r in client.get("/alert-rules", headers=headers).json()["rules"]}
    assert client.delete(f"/alert-rules/{rule_id}", headers=headers).status_code == 204
    problem(client.get(f"/alert-rules/{rule_id}", headers=headers), 404)


@pytest.mark.parametrize(
    "change",
    [
        {"condition": {"statuses": ["offline"], "value_above": 3}},
        {"condition": {"statuses": ["burning"]}},
        {"scope": {"kind": "district"}},
        {"scope": {"kind": "district", "code": "99.99"}},
        {"severity": "apocalyptic"},
        {"layer": "taxpayers"},
    ],
)
def test_bad_area_rules_are_400_problems(
    client: TestClient, session: Session, change: dict[str, Any]
) -> None:
    problem(client.post("/alert-rules", json=RULE | change, headers=bearer(session, "bpbd-supervisor")), 400)


def test_declared_rules_cannot_be_deleted_over_http(client: TestClient, session: Session) -> None:
    problem(client.delete("/alert-rules/das_siaga", headers=bearer(session, "admin")), 403)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "not a url",
        "http://user:pw@example.org/hook",
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
    ],
)
def test_bad_or_private_webhook_urls_are_refused(client: TestClient, session: Session, url: str) -> None:
    body = problem(
        client.post("/webhooks", json={"url": url}, headers=bearer(session, "kominfo-supervisor")), 400
    )
    assert "url" in body["detail"]


def test_private_webhook_url_is_accepted_when_allowed(permissive: TestClient, session: Session) -> None:
    client = permissive
    headers = bearer(session, "kominfo-supervisor")
    created = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/hook", "layers": ["das_stations"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert len(created.json()["secret"]) >= 32
    listed = client.get("/webhooks", headers=headers).json()["webhooks"]
    assert created.json()["id"] in {w["id"] for w in listed} and all("secret" not in w for w in listed)


@pytest.mark.parametrize(("roles", "status"), [((), 401), (("bpbd-supervisor",), 403)])
def test_webhooks_are_for_admins_and_kominfo_supervisors(
    client: TestClient, session: Session, roles: tuple[str, ...], status: int
) -> None:
    headers = bearer(session, *roles) if roles else {}
    problem(client.get("/webhooks", headers=headers), status)


def test_webhook_is_changed_and_deleted(permissive: TestClient, session: Session) -> None:
    client = permissive
    headers = bearer(session, "admin")
    hook_id = client.post("/webhooks", json={"url": "http://127.0.0.1:9/a"}, headers=headers).json()["id"]
    changed = client.patch(
        f"/webhooks/{hook_id}", json={"active": False, "min_severity": "critical"}, headers=headers
    )
    assert changed.json()["active"] is False and changed.json()["min_severity"] == "critical"
    problem(client.patch(f"/webhooks/{hook_id}", json={"url": "gopher://x"}, headers=headers), 400)
    assert client.delete(f"/webhooks/{hook_id}", headers=headers).status_code == 204
    problem(client.get(f"/webhooks/{hook_id}", headers=headers), 404)


def test_anonymous_rule_list_has_no_taxpayer_rules(client: TestClient) -> None:
    layers = {r["layer"] for r in client.get("/alert-rules").json()["rules"]}
    assert "taxpayers" not in layers and "das_stations" in layers


def test_openapi_document_describes_the_alert_paths(client: TestClient) -> None:
    paths = client.get("/api").json()["paths"]
    assert {"/alerts", "/alerts/{alert_id}/acknowledge", "/alert-rules", "/webhooks"} <= set(paths)
