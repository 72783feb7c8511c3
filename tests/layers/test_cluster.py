"""The embedded local cluster: `kendali db up` is idempotent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _kendali(*args: str) -> subprocess.CompletedProcess[str]:
    env_free = {
        k: v for k, v in __import__("os").environ.items() if k not in ("DATABASE_URL", "KENDALI_DB_URL")
    }
    exe = Path(sys.executable).with_name("kendali")
    return subprocess.run(
        [str(exe), *args],
        cwd=PROJECT_ROOT,
        env=env_free,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _server_pid(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'").fetchone()
        assert row is not None
        return int(row[0])


def test_db_up_twice_reuses_the_running_cluster(admin_url: str) -> None:
    first = _kendali("db", "up")
    second = _kendali("db", "up")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.strip() == second.stdout.strip()
    url = first.stdout.strip()
    pid = _server_pid(url)
    _kendali("db", "up")
    assert _server_pid(url) == pid


def test_db_status_reports_running() -> None:
    _kendali("db", "up")
    status = _kendali("db", "status")
    assert status.returncode == 0 and status.stdout.startswith("running on 127.0.0.1:")
