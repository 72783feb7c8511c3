"""Helpers of the browser tests: what a page logged and fetched, opening the dashboard, screenshots."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, Request, Response

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Chromium's software GL says this about reading pixels back; it is not the page's fault.
BENIGN_CONSOLE = ("GPU stall due to ReadPixels", "GL Driver Message")


@dataclass
class Recorder:
    """What a page logged and fetched: console errors, every response, every request's headers."""

    errors: list[str] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        """Keep console errors (and warnings that are not Chromium's GL chatter)."""
        if message.type in ("error", "warning") and not any(b in message.text for b in BENIGN_CONSOLE):
            self.errors.append(f"{message.type}: {message.text}")

    def urls(self) -> list[str]:
        """Return the URLs of every response seen."""
        return [r.url for r in self.responses]


def open_dashboard(page: Page, url: str) -> None:
    """Open the dashboard and wait until it has loaded its layers and the map is idle."""
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.wait_for_function("() => window.kendaliMap && window.kendaliMap.loaded()", timeout=30_000)


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under tests/artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def distinct_colours(page: Page, png: bytes) -> int:
    """Return how many distinct colours a PNG has, decoded by the browser itself (no imaging library)."""
    script = """async (data) => {
      const img = new Image(); img.src = data; await img.decode();
      const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
      const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
      for (let i = 0; i < px.length; i += 16) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      return seen.size;
    }"""
    value: Any = page.evaluate(script, "data:image/png;base64," + base64.b64encode(png).decode())
    return int(value)


def pixel(page: Page, lon: float, lat: float) -> tuple[int, int, int]:
    """Return the colour the map draws at a place (read from a screenshot of the map canvas)."""
    x, y = page.evaluate(f"(() => {{ const p = kendaliMap.project([{lon}, {lat}]); return [p.x, p.y]; }})()")
    png = page.locator("#map canvas").screenshot()
    script = """async ([data, x, y]) => {
      const img = new Image(); img.src = data; await img.decode();
      const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
      const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
      return Array.from(ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3));
    }"""
    r, g, b = page.evaluate(script, ["data:image/png;base64," + base64.b64encode(png).decode(), x, y])
    return int(r), int(g), int(b)
