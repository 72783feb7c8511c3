"""Browser fixtures: Debian's Chromium driven by Playwright against a real kendali server.

The server is `server_url` once it serves the dashboard (after the lead registers the routers); until
then a server of the same app with the dashboard's routes added is started here, on the same database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.web._browser import Recorder

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The machine is small and shared: a slow tile or count must not read as a broken page.
expect.set_options(timeout=20_000)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _serves_dashboard(url: str) -> bool:
    try:
        page = httpx.get(f"{url}/", headers={"Accept": "text/html"}, timeout=5)
        me = httpx.get(f"{url}/auth/me", timeout=5)
    except httpx.TransportError:
        return False
    return "/web/js/main.js" in page.text and me.status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def dashboard_url(
    server_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The base URL of a real server that serves the dashboard."""
    if _serves_dashboard(server_url):
        yield server_url
        return
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database_url}
    log_path = tmp_path_factory.mktemp("dashboard-server") / "server.log"
    factory = "tests.web._dashboard_support:create_dashboard_app"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _serves_dashboard(base):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"dashboard server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (shipped in the wheel); no browser is downloaded."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def recorder() -> Recorder:
    """A fresh record of one page's console and network."""
    return Recorder()


@pytest.fixture
def page(browser: Browser, recorder: Recorder) -> Iterator[Page]:
    """A new browser context and page, recording console errors and network traffic."""
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="id-ID")
    p = context.new_page()
    p.on("console", recorder.console)
    p.on("pageerror", lambda exc: recorder.errors.append(f"pageerror: {exc}"))
    p.on("response", lambda r: recorder.responses.append(r))
    p.on("request", lambda r: recorder.requests.append(r))
    yield p
    context.close()
