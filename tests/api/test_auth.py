"""Sign-in for people: session tokens (kds_...) opened with a password, resolved per request, revocable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.access.auth import create_user

PASSWORD = "sandi-rahasia-123"


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The shared in-process client (conftest), which serves every route."""
    return client


def login(api: TestClient, session: Session, username: str, *roles: str) -> str:
    create_user(session.connection(), username, PASSWORD, roles, display_name=f"{username} (uji)")
    response = api.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["token"])


def me(api: TestClient, token: str) -> dict[str, object]:
    response = api.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_login_gives_a_session_token_that_signs_requests(api: TestClient, session: Session) -> None:
    token = login(api, session, "rina", "bpbd-editor")
    body = me(api, token)
    assert token.startswith("kds_")
    assert body["username"] == "rina" and body["display_name"] == "rina (uji)"
    assert body["roles"] == ["bpbd-editor"] and body["agency"] == "bpbd" and body["kind"] == "user"
    assert "response_areas" in body["editable"] and "cctv" not in body["editable"]  # type: ignore[operator]


def test_login_refuses_a_wrong_password(api: TestClient, session: Session) -> None:
    create_user(session.connection(), "budi", PASSWORD, ["dlhp-viewer"])
    response = api.post("/auth/login", json={"username": "budi", "password": "salah-sekali-123"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "token" not in response.json()


@pytest.mark.parametrize(
    "body",
    [{"username": "x"}, {"username": "x", "password": "p" * 201}, {"username": "", "password": "p"}, []],
)
def test_login_refuses_malformed_bodies(api: TestClient, body: object) -> None:
    response = api.post("/auth/login", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_only_a_hash_of_the_token_is_stored(api: TestClient, session: Session) -> None:
    token = login(api, session, "sari", "dlhp-operator")
    stored = session.execute(text("SELECT token_hash FROM user_sessions")).scalars().all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


def test_logout_revokes_the_token(api: TestClient, session: Session) -> None:
    token = login(api, session, "andi", "pupr-analyst")
    assert api.post("/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    response = api.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE user_sessions SET expires_at = now() - interval '1 minute'",
        "UPDATE users SET active = false WHERE username = 'tono'",
        "UPDATE user_sessions SET created_at = now() - interval '8 days'",
    ],
)
def test_expired_or_disabled_sessions_are_refused(api: TestClient, session: Session, change: str) -> None:
    token = login(api, session, "tono", "dishub-operator")
    session.execute(text(change))
    response = api.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize("token", ["kds_unknown", "kds_" + "x" * 300])
def test_unknown_session_tokens_are_refused(api: TestClient, token: str) -> None:
    assert api.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_anonymous_me_lists_public_layers_only(api: TestClient) -> None:
    body = api.get("/auth/me").json()
    ids = {layer["id"] for layer in body["layers"]}  # type: ignore[index]
    assert body["kind"] == "anonymous" and body["editable"] == []
    assert "cctv" in ids and "taxpayers" not in ids and "response_areas" not in ids


@pytest.mark.parametrize(("role", "status"), [("bpprd-viewer", 200), ("bpbd-editor", 404)])
def test_a_session_sees_what_the_policy_allows(
    api: TestClient, session: Session, role: str, status: int
) -> None:
    token = login(api, session, "user_" + role.replace("-", "_"), role)
    response = api.get("/collections/taxpayers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status
