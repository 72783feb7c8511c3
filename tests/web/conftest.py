"""Browser fixtures: Debian's Chromium driven by Playwright against a real kendali server.

The server is `server_url`: `kendali serve` on the test database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def dashboard_url(server_url: str) -> str:
    """The base URL of the real server, which serves the dashboard at `/` to browsers."""
    return server_url


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
