"""Device keys bound to their own assets: the admin API and CLI that make them, HTTP push enforcing it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli.commands import app as kendali_cli
from layers.access.auth import authenticate_key, create_key
from layers.access.policy import in_asset_scope, may_report_asset, principal_for
from tests.api._live_support import Committed, committed, reports

KEYS = "/admin/keys"


@pytest.fixture
def rows(engine: Engine) -> Iterator[Committed]:
    yield from committed(engine, "device-keys-test")


def _external_ids(engine: Engine, asset_ids: list[int]) -> list[str]:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id, external_id FROM assets WHERE id = ANY(:i)"), {"i": asset_ids})
        by_id = {row.id: row.external_id for row in found}
    return [str(by_id[i]) for i in asset_ids]


def _adopt(rows: Committed, prefix: str) -> None:
    """Have a key made through the API deleted with the test's other keys."""
    with rows.engine.connect() as conn:
        key_id = conn.execute(text("SELECT id FROM api_keys WHERE prefix = :p"), {"p": prefix}).scalar_one()
    rows.key_ids.append(int(key_id))


def test_a_camera_key_reports_for_its_camera_and_not_for_another(
    server_url: str, engine: Engine, rows: Committed
) -> None:
    mine, other = rows.assets("cctv", 2)
    mine_ext, other_ext = _external_ids(engine, [mine, other])
    body = {"name": "kamera-1", "roles": ["kominfo-operator"], "layers": ["cctv"], "assets": [mine_ext]}
    created = httpx.post(f"{server_url}{KEYS}", json=body, headers=rows.key("admin"))
    assert created.status_code == 201, created.text
    _adopt(rows, created.json()["prefix"])
    device = {"Authorization": f"Bearer {created.json()['secret']}"}
    batch = reports([mine, other], "offline", rows.source)
    response = httpx.post(f"{server_url}/ingest/status", json=batch, headers=device)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["accepted", "rejected"]
    assert "hanya melapor untuk asetnya sendiri" in results[1]["reason"] and other_ext in results[1]["reason"]
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT asset_id FROM observations WHERE source = :s"), {"s": rows.source}
        ).scalars()
        assert list(stored) == [mine]


def test_the_rejection_reason_is_given_in_english_on_request(client: TestClient, session: Session) -> None:
    key = create_key(session.connection(), "tps-1", ["dlhp-operator"], asset_scope=["dumping_points:NONE-*"])
    external_id = session.execute(
        text("SELECT external_id FROM assets WHERE layer_id = 'dumping_points' ORDER BY id LIMIT 1")
    ).scalar_one()
    at = datetime.now(UTC).isoformat()
    batch = [{"layer": "dumping_points", "external_id": external_id, "status": "full", "observed_at": at}]
    headers = {"Authorization": f"Bearer {key.secret}"}
    response = client.post("/ingest/status?lang=en", json=batch, headers=headers)
    assert response.json()["results"][0]["reason"].startswith("this key reports only for its own assets")


@pytest.mark.parametrize(
    ("scope", "layer", "external_id", "covered"),
    [
        (None, "cctv", "CCTV-0001", True),
        (["CCTV-0001"], "cctv", "CCTV-0001", True),
        (["CCTV-0001"], "cctv", "CCTV-00011", False),
        (["CCTV-00*"], "cctv", "CCTV-0042", True),
        (["CCTV-00?1"], "cctv", "CCTV-0041", True),
        (["CCTV-00?1"], "cctv", "CCTV-0042", False),
        (["cctv-0001"], "cctv", "CCTV-0001", False),  # case counts
        (["cctv:*"], "cctv", "CCTV-0001", True),
        (["cctv:*"], "dumping_points", "TPS-001", False),
        (["TPS-[1]"], "dumping_points", "TPS-[1]", True),  # only * and ? are wildcards
        (["TPS-[1]"], "dumping_points", "TPS-1", False),
        (["dumping_points:NOP:1"], "dumping_points", "NOP:1", True),  # an id with ':' is written qualified
    ],
)
def test_asset_patterns(scope: list[str] | None, layer: str, external_id: str, covered: bool) -> None:
    principal = principal_for("key:t", ["admin"], kind="key", assets=scope)
    assert in_asset_scope(principal, layer, external_id) is covered
    assert may_report_asset(principal, layer, external_id) is covered


def test_asset_scope_does_not_widen_the_layers_a_key_may_report_for() -> None:
    principal = principal_for("key:t", ["dlhp-operator"], kind="key", assets=["*"])
    assert may_report_asset(principal, "dumping_points", "TPS-1")
    assert not may_report_asset(principal, "cctv", "CCTV-0001")


@pytest.mark.parametrize(
    ("method", "path", "roles", "status"),
    [
        ("GET", KEYS, (), 401),
        ("POST", KEYS, (), 401),
        ("DELETE", f"{KEYS}/0123abcd", (), 401),
        ("GET", KEYS, ("kominfo-supervisor",), 403),
        ("POST", KEYS, ("kominfo-admin",), 403),
        ("DELETE", f"{KEYS}/0123abcd", ("dlhp-operator",), 403),
    ],
)
def test_only_system_admins_manage_keys(
    client: TestClient, session: Session, method: str, path: str, roles: tuple[str, ...], status: int
) -> None:
    headers = {}
    if roles:
        headers["Authorization"] = f"Bearer {create_key(session.connection(), 'not-admin', roles).secret}"
    body = {"name": "x", "roles": ["dlhp-operator"]} if method == "POST" else None
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status and response.json()["detail"]


def _admin(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(session.connection(), 'key-admin', ['admin']).secret}"}


def test_a_created_key_is_shown_once_listed_without_secrets_and_revocable(
    client: TestClient, session: Session
) -> None:
    admin = _admin(session)
    body = {
        "name": "pintu-air-7",
        "roles": ["bpbd-operator"],
        "assets": ["das_stations:DAS-*"],
        "topics": ["kendali/das_stations/+/status"],
    }
    created = client.post(KEYS, json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    new: dict[str, Any] = created.json()
    assert (new["assets"], new["topics"], new["agency"]) == (body["assets"], body["topics"], "bpbd")
    listed = client.get(KEYS, headers=admin)
    assert listed.headers["cache-control"] == "no-store"
    entry = next(k for k in listed.json()["keys"] if k["prefix"] == new["prefix"])
    assert "secret" not in entry and "key_hash" not in entry and new["secret"] not in listed.text
    assert client.delete(f"{KEYS}/{new['prefix']}", headers=admin).status_code == 204
    again = client.delete(f"{KEYS}/{new['prefix']}", headers=admin)
    assert again.status_code == 404 and again.json()["code"] == "key_not_found"
    assert authenticate_key(session.connection(), new["secret"]) is None


def test_key_creation_and_revocation_are_audited(client: TestClient, session: Session) -> None:
    admin = _admin(session)
    prefix = client.post(KEYS, json={"name": "a", "roles": ["dlhp-operator"]}, headers=admin).json()["prefix"]
    client.delete(f"{KEYS}/{prefix}", headers=admin)
    audited = session.execute(
        text("SELECT action, actor FROM audit_log WHERE target = 'api_key' AND target_id = :p ORDER BY id"),
        {"p": prefix},
    ).all()
    assert [tuple(a) for a in audited] == [("create", "key:key-admin"), ("revoke", "key:key-admin")]


@pytest.mark.parametrize(
    "change",
    [
        {"assets": []},
        {"assets": [""]},
        {"assets": [" CCTV-1"]},
        {"assets": ["x" * 201]},
        {"assets": ["nope:CCTV-1"]},  # no such layer
        {"assets": ["districts:D-1"]},  # a layer without live status
        {"layers": ["cctv"], "assets": ["dumping_points:*"]},  # outside the key's layers
        {"assets": [f"A-{i}" for i in range(201)]},
        {"topics": ["kendali/#/status"]},
        {"topics": ["kendali/cctv+/status"]},
        {"topics": []},
        {"secret": "kdl_mine"},  # server-owned
    ],
)
def test_bad_key_bodies_are_refused(client: TestClient, session: Session, change: dict[str, Any]) -> None:
    body = {"name": "bad", "roles": ["kominfo-operator"]} | change
    response = client.post(KEYS, json=body, headers=_admin(session))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_cli_creates_a_bound_key_and_lists_it(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    name = "cli-device-key-test"
    args = ["key", "create", name, "--role", "kominfo-operator", "--layer", "cctv"]
    args += ["--asset", "CCTV-0001", "--asset", "cctv:CCTV-01*", "--topic", "kendali/cctv/+/status"]
    try:
        created = runner.invoke(kendali_cli, args)
        assert created.exit_code == 0, created.output
        secret = created.stdout.strip()
        listed = runner.invoke(kendali_cli, ["key", "list"])
        assert listed.exit_code == 0, listed.output
        line = next(x for x in listed.stdout.splitlines() if f"\t{name}\t" in x)
        assert "\tCCTV-0001,cctv:CCTV-01*\tkendali/cctv/+/status\t" in line
        assert secret not in listed.stdout and secret.split("_")[1] in line
    finally:
        with engine.begin() as conn:
            gone = conn.execute(text("DELETE FROM api_keys WHERE name = :n RETURNING prefix"), {"n": name})
            prefixes = list(gone.scalars())
            conn.execute(text("DELETE FROM audit_log WHERE target_id = ANY(:p)"), {"p": prefixes})
