"""BPBD draws a response area on the map: clicks on the canvas become a stored, versioned area."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from layers.access.auth import create_user
from tests.web._browser import Recorder, open_dashboard, screenshot

PASSWORD = "sandi-dasbor-123"
USERNAME = "dash_bpbd_editor"
AREA_NAME = "Uji gambar area Batu Merah"
# Corners of the area in pixels from the map's centre, clockwise; the last click closes the ring.
CORNERS = [(-90, -70), (90, -70), (90, 70), (-90, 70)]
SQUARE = [[128.19, -3.72], [128.20, -3.72], [128.20, -3.71], [128.19, -3.71], [128.19, -3.72]]
AREA = {
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    "properties": {"name": "Longsor Soya", "hazard": "longsor"},
}


@contextmanager
def committed_editor(engine: Engine, username: str, password: str, display_name: str) -> Iterator[str]:
    """A committed BPBD editor; they and the areas they drew are removed afterwards."""
    with engine.begin() as conn:
        create_user(conn, username, password, ["bpbd-editor"], display_name=display_name)
    yield username
    with engine.begin() as conn:
        ids = (
            conn.execute(text("SELECT id FROM areas WHERE created_by = :u"), {"u": username}).scalars().all()
        )
        conn.execute(text("DELETE FROM area_versions WHERE area_id = ANY(:ids)"), {"ids": list(ids)})
        conn.execute(text("DELETE FROM audit_log WHERE actor = :u"), {"u": username})
        conn.execute(text("DELETE FROM areas WHERE id = ANY(:ids)"), {"ids": list(ids)})
        conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})


@pytest.fixture
def editor(engine: Engine) -> Iterator[str]:
    """A committed BPBD editor who draws areas."""
    with committed_editor(engine, USERNAME, PASSWORD, "Uji BPBD") as name:
        yield name


def click_corners(page: Page) -> None:
    box = page.locator("#map canvas").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in [*CORNERS, CORNERS[0]]:
        page.mouse.move(cx + dx, cy + dy)
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_timeout(300)  # pacing between clicks, so no two read as a double click


def sign_in(page: Page, username: str) -> None:
    page.click("#login-button")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#draw-tools")).to_be_visible()
    page.wait_for_function("() => document.body.dataset.ready === 'true' && kendaliMap.loaded()")


def test_drawing_a_polygon_creates_a_response_area(
    page: Page, recorder: Recorder, engine: Engine, dashboard_url: str, editor: str
) -> None:
    open_dashboard(page, dashboard_url)
    sign_in(page, editor)
    page.click("#draw-start")
    click_corners(page)
    expect(page.locator("#area-dialog")).to_be_visible()
    page.fill("#area-name", AREA_NAME)
    page.select_option("#area-hazard", "banjir")
    page.click("#area-save")
    expect(page.locator("#area-panel")).to_be_visible()
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT properties, ST_NPoints(geom) AS n, created_by FROM areas WHERE name = :n"),
            {"n": AREA_NAME},
        ).one()
    assert row.created_by == editor and row.properties["hazard"] == "banjir" and row.n == 5
    screenshot(page, "dashboard-drawn-area")
    assert recorder.errors == []


def test_a_stale_delete_shows_the_conflict_message(
    page: Page, engine: Engine, dashboard_url: str, editor: str
) -> None:
    login = httpx.post(f"{dashboard_url}/auth/login", json={"username": editor, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    created = httpx.post(f"{dashboard_url}/collections/response_areas/items", json=AREA, headers=headers)
    area = f"{dashboard_url}/collections/response_areas/items/{created.json()['id']}"
    open_dashboard(page, dashboard_url)
    sign_in(page, editor)
    page.fill("#search-input", "Longsor Soya")
    page.click("#search-results button[data-layer=response_areas]")
    expect(page.locator("#draw-delete")).to_be_enabled()
    stale_version = headers | {"If-Match": '"1"'}
    changed = httpx.patch(area, json={"properties": {"state": "active"}}, headers=stale_version)
    assert changed.status_code == 200, changed.text
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#draw-delete")
    expect(page.locator("#toast")).to_contain_text("sudah diubah orang lain")
    assert httpx.get(area, headers=headers).json()["properties"]["state"] == "active"
    screenshot(page, "dashboard-conflict")
