"""The dashboard in Debian's Chromium against a real server: map, layers, language, details, sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from layers.access.auth import create_user
from tests.web._browser import Recorder, distinct_colours, open_dashboard, screenshot

PASSWORD = "sandi-dasbor-123"


@pytest.fixture
def person(engine: Engine, request: pytest.FixtureRequest) -> Iterator[str]:
    """A committed user with the role in the test's `role` marker-free param; removed afterwards."""
    role: str = request.param
    username = f"dash_{role.replace('-', '_')}"
    with engine.begin() as conn:
        create_user(conn, username, PASSWORD, [role], display_name=f"Uji {role}")
    yield username
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})


def sign_in(page: Page, username: str) -> None:
    page.click("#login-button")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#user-name")).to_have_text(f"Uji {username.removeprefix('dash_').replace('_', '-')}")
    page.wait_for_selector("body[data-ready=true]")


def test_dashboard_loads_clean_and_draws_the_map(page: Page, recorder: Recorder, dashboard_url: str) -> None:
    open_dashboard(page, dashboard_url)
    centre = page.evaluate("[kendaliMap.getCenter().lng, kendaliMap.getCenter().lat, kendaliMap.getZoom()]")
    assert centre == pytest.approx([128.18, -3.70, 12], abs=0.01)
    assert any("/tiles/" in url or "/items" in url for url in recorder.urls())
    assert page.evaluate("kendaliMap.getStyle().sources['kendali-cctv'] !== undefined")
    canvas = page.locator("#map canvas").screenshot()
    assert distinct_colours(page, canvas) > 20
    screenshot(page, "dashboard-anonymous")
    assert recorder.errors == []
    remote = [u for u in recorder.urls() if u.startswith("http") and not u.startswith(dashboard_url)]
    assert remote == []  # nothing from a CDN or any other host


def test_a_layer_toggles_its_map_layer(page: Page, dashboard_url: str) -> None:
    open_dashboard(page, dashboard_url)
    visibility = "kendaliMap.getLayoutProperty('cctv-circle', 'visibility')"
    assert page.evaluate(visibility) in (None, "visible")
    page.uncheck("#layer-toggle-cctv")
    assert page.evaluate(visibility) == "none"
    page.check("#layer-toggle-cctv")
    assert page.evaluate(visibility) == "visible"


def test_the_language_toggle_switches_texts(page: Page, dashboard_url: str) -> None:
    open_dashboard(page, dashboard_url)
    expect(page.locator("#login-button")).to_have_text("Masuk")
    expect(page.locator("[data-kpi=cctv] span")).to_have_text("Kamera CCTV")
    expect(page.locator("[data-kpi=cctv]")).to_have_attribute("title", "Kamera CCTV: Luring/tanpa laporan")
    page.click("#lang-toggle")
    expect(page.locator("#login-button")).to_have_text("Sign in")
    expect(page.locator("[data-kpi=cctv] span")).to_have_text("CCTV cameras")
    expect(page.locator("[data-kpi=cctv]")).to_have_attribute("title", "CCTV cameras: Offline/no report")
    expect(page.locator("#layer-groups [data-layer=cctv] .title")).to_have_text("CCTV cameras")
    expect(page.locator("#legend-cctv [data-status=online]")).to_contain_text("Online")
    assert page.evaluate("document.documentElement.lang") == "en"
    screenshot(page, "dashboard-english")


def test_clicking_an_asset_shows_its_panel_and_history(page: Page, dashboard_url: str) -> None:
    open_dashboard(page, dashboard_url)
    page.evaluate("kendaliMap.jumpTo({center: [128.1815, -3.6960], zoom: 17})")
    page.wait_for_function(
        "() => kendaliMap.loaded() && kendaliMap.queryRenderedFeatures({layers: ['cctv-circle']}).length > 0"
    )
    point = page.evaluate(
        """(() => { const f = kendaliMap.queryRenderedFeatures({layers: ['cctv-circle']})[0];
        const p = kendaliMap.project(f.geometry.coordinates);
        const r = kendaliMap.getCanvas().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; })()"""
    )
    page.mouse.click(*point)
    expect(page.locator("#details")).to_be_visible()
    expect(page.locator("#details .status")).to_be_visible()
    expect(page.locator("#details svg.chart rect").first).to_be_attached()
    expect(page.locator("#details a.stream")).to_have_count(0)  # stream addresses are for staff only
    screenshot(page, "dashboard-details")


@pytest.mark.parametrize("person", ["bpprd-viewer"], indirect=True)
def test_sign_in_shows_the_callers_layers_with_credentials_on_tiles(
    page: Page, recorder: Recorder, dashboard_url: str, person: str
) -> None:
    open_dashboard(page, dashboard_url)
    expect(page.locator("#layer-toggle-taxpayers")).to_have_count(0)
    sign_in(page, person)
    expect(page.locator("#layer-toggle-taxpayers")).to_be_checked()
    expect(page.locator("[data-kpi=taxpayers]")).to_be_visible()
    page.wait_for_function("() => kendaliMap.loaded()")
    tiles = [r for r in recorder.requests if "/tiles/taxpayers/" in r.url]
    assert tiles and all(r.headers.get("authorization", "").startswith("Bearer kds_") for r in tiles)
    screenshot(page, "dashboard-bpprd")
    page.click("#logout-button")
    expect(page.locator("#layer-toggle-taxpayers")).to_have_count(0)
    expect(page.locator("#login-button")).to_be_visible()


def test_the_kpi_strip_has_a_tile_per_visible_live_layer_with_alarms(page: Page, dashboard_url: str) -> None:
    open_dashboard(page, dashboard_url)
    tiles = page.locator("#kpis li")
    expect(tiles).to_have_count(3)  # traffic has no alarm rule; city apps and taxpayers are not public
    assert tiles.evaluate_all("els => els.map(e => e.dataset.kpi)") == [
        "cctv",
        "dumping_points",
        "das_stations",
    ]
    expect(page.locator("[data-kpi=das_stations]")).to_have_attribute(
        "title", "Pos duga air (DAS): Siaga/Awas"
    )
    expect(page.locator("[data-kpi=das_stations] b")).to_have_text(re.compile(r"^[0-9.]+$"))


@pytest.mark.parametrize("person", ["bpprd-viewer"], indirect=True)
def test_search_finds_a_taxpayer_by_nop_for_those_who_see_taxpayers(
    page: Page, engine: Engine, dashboard_url: str, person: str
) -> None:
    with engine.connect() as conn:
        nop = conn.execute(
            text("SELECT properties->>'nop' FROM assets WHERE layer_id = 'taxpayers' LIMIT 1")
        ).one()[0]
    open_dashboard(page, dashboard_url)
    sign_in(page, person)
    page.fill("#search-input", nop)
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results button[data-layer=taxpayers]")).to_have_count(1)
