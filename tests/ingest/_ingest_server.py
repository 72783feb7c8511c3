"""A real `kendali serve` as a process of a test, on a database of the test's choosing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def ingest_server(database_url: str, port: int, log_path: Path) -> Iterator[str]:
    """Run `kendali serve` on 127.0.0.1:`port` against `database_url`; yield its URL; stop it by PID."""
    env = os.environ | {"DATABASE_URL": database_url, "KENDALI_PORT": str(port)}
    exe = Path(sys.executable).with_name("kendali")
    with log_path.open("ab") as log:
        proc = subprocess.Popen([str(exe), "serve"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"server did not start: {log_path.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
