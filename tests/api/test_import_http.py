"""POST /collections/{layer}/import: multipart upload, policy, dry run, refused rows, limits."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from ingest.importer import ImportSettings
from layers.access.auth import create_key
from layers.settings import DatabaseSettings
from layers.tables import assets
from tests.ingest._import_files import points, write_file

UPLOAD_LIMIT = 256 * 1024  # an empty GeoPackage alone is about 100 KB
URL = "/collections/dumping_points/import"


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """A client on an app that serves the import route, sharing the rolled-back session."""
    limits = ImportSettings(max_upload_bytes=UPLOAD_LIMIT)
    app = create_app(ApiSettings(db=DatabaseSettings(url=database_url), imports=limits))  # type: ignore[arg-type]
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


def bearer(session: Session, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(session.connection(), 'import-test', [role]).secret}"}


def upload(path: Path) -> dict[str, tuple[str, bytes]]:
    return {"file": (path.name, path.read_bytes())}


def imported(session: Session, prefix: str) -> int:
    stmt = select(func.count()).where(assets.c.external_id.like(f"{prefix}%"))
    return int(session.execute(stmt).scalar_one())


def test_upload_imports_rows(client: TestClient, session: Session, tmp_path: Path) -> None:
    rows = points(3, prefix="http-ok")
    response = client.post(
        URL, files=upload(write_file(tmp_path, "gpkg", rows)), headers=bearer(session, "dlhp-editor")
    )
    assert response.status_code == 200, response.text
    assert response.json() | {"rejections": []} == response.json()
    assert (response.json()["inserted"], response.json()["committed"]) == (3, True)
    assert imported(session, "http-ok") == 3


def test_dry_run_writes_nothing(client: TestClient, session: Session, tmp_path: Path) -> None:
    path = write_file(tmp_path, "csv", points(2, prefix="http-dry"))
    response = client.post(f"{URL}?dry_run=true", files=upload(path), headers=bearer(session, "dlhp-editor"))
    assert response.status_code == 200, response.text
    assert (response.json()["inserted"], response.json()["committed"]) == (2, False)
    assert imported(session, "http-dry") == 0


def test_refused_rows_give_422_with_the_report(client: TestClient, session: Session, tmp_path: Path) -> None:
    rows = points(3, prefix="http-bad")
    rows[1]["tps_type"] = "volcano"
    response = client.post(
        f"{URL}?lang=en",
        files=upload(write_file(tmp_path, "geojson", rows)),
        headers=bearer(session, "dlhp-editor"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    report = response.json()["report"]
    assert [(r["row"], r["external_id"]) for r in report["rejections"]] == [(2, "http-bad-1")]
    assert "tps_type" in report["rejections"][0]["reason"]
    assert imported(session, "http-bad") == 0


@pytest.mark.parametrize(
    ("layer", "role", "status"),
    [
        ("dumping_points", "dishub-editor", 403),
        ("taxpayers", "dlhp-editor", 404),
        ("dumping_points", None, 403),
    ],
)
def test_policy_decides_who_may_import(
    client: TestClient, session: Session, tmp_path: Path, layer: str, role: str | None, status: int
) -> None:
    headers = bearer(session, role) if role else {}
    path = write_file(tmp_path, "geojson", points(1))
    response = client.post(f"/collections/{layer}/import", files=upload(path), headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_zip_with_a_parent_member_is_refused(client: TestClient, session: Session) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../../etc/tps.shp", b"\x00\x00\x27\x0a")
    files = {"file": ("evil.zip", buffer.getvalue())}
    response = client.post(URL, files=files, headers=bearer(session, "dlhp-editor"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_import_file"


def test_oversized_upload_is_413(client: TestClient, session: Session) -> None:
    files = {"file": ("big.geojson", b"{" + b" " * UPLOAD_LIMIT + b"}")}
    response = client.post(URL, files=files, headers=bearer(session, "dlhp-editor"))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_body_that_is_not_a_form_is_415(client: TestClient, session: Session) -> None:
    headers = bearer(session, "dlhp-editor") | {"content-type": "application/geo+json"}
    response = client.post(URL, content=b"{}", headers=headers)
    assert response.status_code == 415


def test_form_without_a_file_is_400(client: TestClient, session: Session) -> None:
    response = client.post(URL, files={"other": (None, b"x")}, headers=bearer(session, "dlhp-editor"))
    assert response.status_code == 400
