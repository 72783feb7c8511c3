"""Large imports over real HTTP: background jobs with progress, cancellation, a client that goes away,
and other callers answered while an import runs.

An import is held mid-way deterministically: the test commits one dumping point, holds a row lock on it,
and puts it in the file, so the import waits on that row after its first rows are written (and, in a job,
after its first progress was recorded) until the test lets go. Nothing is timed beyond generous bounds.
"""

from __future__ import annotations

import secrets
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, text

from tests.ingest._bulk_support import (
    IMPORT,
    api_key,
    big_gpkg,
    committed_run,
    create_point,
    import_lock_held,
    job,
    row_locked,
    someone_waits_for_a_lock,
    stored_count,
    upload,
    version_of,
    wait_for,
)
from tests.ingest._import_files import points, write_file

ROWS = 20_000
CHUNK = 5_000  # layers.editing.upsert.CHUNK: progress is recorded after each


def _finished(base: str, location: str, headers: dict[str, str]) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        body = job(base, location, headers)
        return None if body["state"] in ("queued", "running") else body

    result: dict[str, Any] = wait_for(ended, 120, "the job to end")
    return result


def _prefix() -> str:
    return f"job-{secrets.token_hex(3)}"


def test_background_job_reports_progress_then_its_report_and_others_are_answered_meanwhile(
    server_url: str, engine: Engine, tmp_path: Path
) -> None:
    prefix = _prefix()
    held = f"{prefix}-held"
    with committed_run(engine, prefix), api_key(engine, "dlhp-editor") as editor:
        create_point(engine, held)
        path = big_gpkg(tmp_path / "big.gpkg", ROWS, prefix, ids={CHUNK + 1: held})
        with row_locked(engine, held):
            response = httpx.post(
                f"{server_url}{IMPORT}?background=true&lang=en",
                files=upload(path),
                headers=editor,
                timeout=60,
            )
            assert response.status_code == 202, response.text
            location = response.headers["location"]
            assert location == f"/imports/{response.json()['id']}"
            assert response.json()["state"] in ("queued", "running")

            def progressed() -> dict[str, Any] | None:
                body = job(server_url, location, editor)
                return body if body["rows_done"] >= CHUNK else None

            running = wait_for(progressed, 60, "the first progress")
            assert running["state"] == "running"
            assert (running["rows_total"], running["report"]) == (ROWS, None)
            assert 0 < running["percent"] < 100
            wait_for(lambda: someone_waits_for_a_lock(engine), 30, "the import to reach the held row")

            # Meanwhile: a read, an import into another layer, and a second import into the same layer.
            read = httpx.get(f"{server_url}/collections/{'dumping_points'}/items?limit=5", timeout=10)
            assert read.status_code == 200
            junction = [
                {
                    "name": "Simpang uji",
                    "external_id": f"{prefix}-j",
                    "junction_code": "UJI-1",
                    "signal_type": "none",
                    "legs": 4,
                    "lon": 128.18,
                    "lat": -3.70,
                }
            ]
            with api_key(engine, "dishub-editor") as dishub:
                other = httpx.post(
                    f"{server_url}/collections/traffic_junctions/import?dry_run=true",
                    files=upload(write_file(tmp_path, "geojson", junction)),
                    headers=dishub,
                    timeout=10,
                )
            assert other.status_code == 200, other.text
            small = write_file(tmp_path, "csv", points(3, prefix=f"{prefix}-second"))
            second = httpx.post(
                f"{server_url}{IMPORT}?background=true", files=upload(small), headers=editor, timeout=10
            )
            assert second.status_code == 202
            assert job(server_url, second.headers["location"], editor)["state"] == "queued"
        done = _finished(server_url, location, editor)
        assert (done["state"], done["percent"], done["rows_done"]) == ("done", 100.0, ROWS)
        report = done["report"]
        assert (report["inserted"], report["updated"], report["rejected"], report["committed"]) == (
            ROWS - 1,
            1,
            0,
            True,
        )
        assert version_of(engine, held) == 2
        assert _finished(server_url, second.headers["location"], editor)["report"]["inserted"] == 3
        assert stored_count(engine, prefix) == ROWS + 3


def test_cancelled_job_writes_nothing(server_url: str, engine: Engine, tmp_path: Path) -> None:
    prefix = _prefix()
    held = f"{prefix}-held"
    with committed_run(engine, prefix), api_key(engine, "dlhp-editor") as editor:
        create_point(engine, held)
        path = big_gpkg(tmp_path / "big.gpkg", ROWS, prefix, ids={CHUNK + 1: held})
        with row_locked(engine, held):
            response = httpx.post(
                f"{server_url}{IMPORT}?background=true", files=upload(path), headers=editor, timeout=60
            )
            location = response.headers["location"]
            wait_for(lambda: job(server_url, location, editor)["rows_done"] >= CHUNK, 60, "progress")
            cancelled = httpx.delete(server_url + location, headers=editor, timeout=10)
            assert cancelled.status_code == 202, cancelled.text
            assert cancelled.json()["cancel_requested"] is True
        ended = _finished(server_url, location, editor)
        assert (ended["state"], ended["report"]) == ("cancelled", None)
        assert stored_count(engine, prefix) == 1  # the held point only, untouched
        assert version_of(engine, held) == 1
        again = httpx.delete(server_url + location, headers=editor, timeout=10)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"


def _send_raw(base: str, path: Path, query: str, headers: dict[str, str]) -> socket.socket:
    """Send a whole multipart upload on a socket of our own and return it, unread (to close it later)."""
    request = httpx.Request("POST", f"{base}{IMPORT}?{query}", files=upload(path), headers=headers)
    body = request.read()
    url = urlsplit(base)
    head = [f"POST {IMPORT}?{query} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() not in ("host", "content-length")]
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=30)
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    return sock


def test_client_that_goes_away_mid_import_leaves_nothing_and_frees_the_layer(
    server_url: str, engine: Engine, tmp_path: Path
) -> None:
    prefix = _prefix()
    held = f"{prefix}-held"
    with committed_run(engine, prefix), api_key(engine, "dlhp-editor") as editor:
        create_point(engine, held)
        path = big_gpkg(tmp_path / "big.gpkg", ROWS, prefix, ids={1: held})
        with row_locked(engine, held):
            sock = _send_raw(server_url, path, "background=false", editor)
            wait_for(lambda: someone_waits_for_a_lock(engine), 60, "the import to reach the held row")
            assert import_lock_held(engine)
            sock.close()  # the client goes away while its import is under way
        wait_for(lambda: not import_lock_held(engine), 60, "the layer's import lock to be released")
        assert stored_count(engine, prefix) == 1
        assert version_of(engine, held) == 1
        small = write_file(tmp_path, "csv", points(2, prefix=f"{prefix}-after"))
        after = httpx.post(
            f"{server_url}{IMPORT}?background=false", files=upload(small), headers=editor, timeout=60
        )
        assert after.status_code == 200, after.text
        assert stored_count(engine, f"{prefix}-after") == 2


def test_a_job_is_seen_only_by_its_caller_and_admins(server_url: str, engine: Engine, tmp_path: Path) -> None:
    prefix = _prefix()
    with committed_run(engine, prefix), api_key(engine, "dlhp-editor") as editor:
        small = write_file(tmp_path, "csv", points(2, prefix=prefix))
        response = httpx.post(
            f"{server_url}{IMPORT}?background=true&dry_run=true",
            files=upload(small),
            headers=editor,
            timeout=30,
        )
        location = response.headers["location"]
        assert _finished(server_url, location, editor)["report"]["dry_run"] is True
        with api_key(engine, "dlhp-editor") as colleague, api_key(engine, "admin") as admin:
            assert httpx.get(server_url + location, headers=colleague, timeout=10).status_code == 404
            assert httpx.delete(server_url + location, headers=colleague, timeout=10).status_code == 404
            assert httpx.get(server_url + location, timeout=10).status_code == 404
            assert httpx.get(server_url + location, headers=admin, timeout=10).status_code == 200
        assert httpx.get(f"{server_url}/imports/not-a-uuid", headers=editor, timeout=10).status_code == 400
        assert stored_count(engine, prefix) == 0


def test_a_job_left_running_by_a_dead_process_reads_as_failed(server_url: str, engine: Engine) -> None:
    with api_key(engine, "admin") as admin:
        with engine.begin() as conn:
            job_id = conn.execute(
                text(
                    "INSERT INTO import_jobs (id, layer_id, actor, state, dry_run, heartbeat_at)"
                    " VALUES (gen_random_uuid(), 'dumping_points', 'user:gone', 'running', false,"
                    " now() - interval '1 hour') RETURNING id"
                )
            ).scalar_one()
        body = job(server_url, f"/imports/{job_id}", admin | {"Accept-Language": "en"})
        assert (body["state"], body["error"]["code"]) == ("failed", "server_stopped")
        assert "nothing was written" in body["error"]["detail"]
