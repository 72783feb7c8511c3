"""`kendali serve` runs as many worker processes as KENDALI_WORKERS asks, and they all answer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests._server import free_port, kendali_server

REQUESTS = 40


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_answers_from_every_worker_process(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with kendali_server(
        database_url, free_port(), log, KENDALI_WORKERS="2", KENDALI_ALERT_CHECK_S="3600"
    ) as base:
        assert _wait_for(lambda: log.read_text().count("Application startup complete") >= 2), log.read_text()

        def worker_pid(_: int) -> int:
            response = httpx.get(f"{base}/health", headers={"Connection": "close"}, timeout=10)
            assert response.status_code == 200
            return int(response.json()["pid"])

        with ThreadPoolExecutor(4) as pool:  # every request on a new connection
            pids = set(pool.map(worker_pid, range(REQUESTS)))
    assert len(pids) == 2
    assert _wait_for(lambda: not any(_alive(pid) for pid in pids), timeout_s=20)  # stopped with the server
