"""A real `kendali serve` as a process of a test, on a database of the test's choosing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # tests/_server.py -> the checkout


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def kendali_server(database_url: str, port: int, log_path: Path, **extra_env: str) -> Iterator[str]:
    """Run `kendali serve` on 127.0.0.1:`port` against `database_url`; yield its URL; stop it by PID."""
    env = os.environ | {"DATABASE_URL": database_url, "KENDALI_PORT": str(port)} | extra_env
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
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
