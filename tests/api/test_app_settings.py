"""Settings are built once, by `create_app` or its caller, and passed down: two apps in one process keep
their own, and every documented environment variable still reaches its group."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from basemaps.settings import BasemapSettings, BasemapSource, SourceKind
from ingest.importer import ImportSettings
from ingest.webhooks import WebhookSettings
from layers.access.auth import create_key
from layers.settings import DatabaseSettings
from tests.ingest._import_files import points, write_file

CITY_TILES = BasemapSource(
    id="kota",
    kind=SourceKind.XYZ,
    title_id="Peta kota",
    title_en="City map",
    url="https://tiles.example.org/{z}/{x}/{y}.png",
)


@contextmanager
def two_clients(
    database_url: str, session: Session, first: dict[str, object], second: dict[str, object]
) -> Iterator[tuple[TestClient, TestClient]]:
    """Yield clients of two apps, open at the same time, built with these settings over the same database."""
    with ExitStack() as stack:
        clients = []
        for changes in (first, second):
            app = create_app(ApiSettings(db=DatabaseSettings(url=database_url), **changes))  # type: ignore[arg-type]
            app.dependency_overrides[get_session] = lambda: session
            clients.append(stack.enter_context(TestClient(app)))
        yield clients[0], clients[1]


def test_two_apps_serve_their_own_basemaps(database_url: str, session: Session) -> None:
    city = {"basemaps": BasemapSettings(sources=[CITY_TILES], default="kota")}
    with two_clients(database_url, session, city, {"basemaps": BasemapSettings(sources=[])}) as (a, b):
        first, second = a.get("/basemaps").json(), b.get("/basemaps").json()
    assert (first["default"], [m["id"] for m in first["basemaps"]]) == ("kota", ["offline", "kota"])
    assert (second["default"], [m["id"] for m in second["basemaps"]]) == ("offline", ["offline"])


def test_two_apps_keep_their_own_body_limits(database_url: str, session: Session) -> None:
    body = b'{"reports": []}' + b" " * 2048
    headers = {"content-type": "application/json"}
    with two_clients(database_url, session, {"max_body_bytes": 1024}, {}) as (small, default):
        assert small.post("/ingest/status", content=body, headers=headers).status_code == 413
        assert default.post("/ingest/status", content=body, headers=headers).status_code == 401


def test_two_apps_keep_their_own_import_limits(database_url: str, session: Session, tmp_path: Path) -> None:
    upload = write_file(tmp_path, "geojson", points(10))
    assert upload.stat().st_size > 1024
    headers = {
        "Authorization": f"Bearer {create_key(session.connection(), 'settings', ['dlhp-editor']).secret}"
    }
    files = {"file": (upload.name, upload.read_bytes())}
    tight = {"imports": ImportSettings(max_upload_bytes=1024)}
    with two_clients(database_url, session, tight, {"imports": ImportSettings()}) as (small, default):
        url = "/collections/dumping_points/import?dry_run=true"
        assert small.post(url, files=files, headers=headers).status_code == 413
        answer = default.post(url, files=files, headers=headers)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["rows"], answer.json()["committed"]) == (10, False)


def test_two_apps_keep_their_own_webhook_rules(database_url: str, session: Session) -> None:
    headers = {"Authorization": f"Bearer {create_key(session.connection(), 'settings', ['admin']).secret}"}
    hook = {"url": "http://127.0.0.1:9/hook"}
    closed = {"webhooks": WebhookSettings(allow_private=True)}
    with two_clients(database_url, session, closed, {"webhooks": WebhookSettings(allow_private=False)}) as (
        lab,
        city,
    ):
        assert lab.post("/webhooks", json=hook, headers=headers).status_code == 201
        assert city.post("/webhooks", json=hook, headers=headers).status_code == 400


ENVIRONMENT = {
    "DATABASE_URL": "postgresql://u:p@db.example:5432/kota",
    "KENDALI_DB_POOL_SIZE": "7",
    "KENDALI_DATA_DIR": "/srv/kendali",
    "KENDALI_PORT": "8123",
    "KENDALI_MAX_BODY_BYTES": "4096",
    "KENDALI_STALE_CHECK_S": "12",
    "KENDALI_ALERT_CHECK_S": "3600",
    "KENDALI_SSE_QUEUE": "50",
    "KENDALI_BASEMAPS_SOURCES": CITY_TILES.model_dump_json().join("[]"),
    "KENDALI_BASEMAPS_DEFAULT": "kota",
    "KENDALI_IMPORT_MAX_UPLOAD_BYTES": "2048",
    "KENDALI_WEBHOOKS_ALLOW_PRIVATE": "true",
    "KENDALI_WEBHOOKS__TIMEOUT_S": "9",  # the nested form reaches the same group
}


def test_documented_variables_reach_their_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    settings = ApiSettings()
    assert (settings.db.pool_size, settings.db.data_dir, settings.port) == (7, Path("/srv/kendali"), 8123)
    assert settings.db.sqlalchemy_url() == "postgresql+psycopg://u:p@db.example:5432/kota"
    assert settings.max_body_bytes == 4096
    assert (settings.live.stale_check_s, settings.live.alert_check_s, settings.live.sse_queue) == (
        12,
        3600,
        50,
    )
    assert (settings.basemaps.default, settings.basemaps.sources) == ("kota", [CITY_TILES])
    assert settings.imports.max_upload_bytes == 2048
    assert (settings.webhooks.allow_private, settings.webhooks.timeout_s) == (True, 9)
