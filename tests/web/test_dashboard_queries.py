"""The Queries panel in Debian's Chromium against a real server: forms from declared parameters, answers
on the map and in a table, the server's 400s, exports, languages, and nothing for anonymous callers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from layers.queries.catalog import QUERIES
from tests.web._browser import Recorder, open_dashboard, screenshot
from tests.web.test_dashboard_draw import click_corners, committed_editor

PASSWORD = "sandi-kueri-123"
USERNAME = "dash_query_bpbd"


@pytest.fixture
def staff(engine: Engine) -> Iterator[str]:
    """A committed BPBD editor (staff who may run queries and draw areas); removed with their areas."""
    with committed_editor(engine, USERNAME, PASSWORD, "Uji Kueri") as name:
        yield name


def sign_in(page: Page, username: str) -> None:
    page.click("#login-button")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#query-list [data-query=in_area]")).to_be_visible()
    page.wait_for_function("() => document.body.dataset.ready === 'true' && kendaliMap.loaded()")


def open_signed_in(page: Page, url: str, username: str) -> None:
    open_dashboard(page, url)
    sign_in(page, username)


def run_in_area_over_view(page: Page) -> None:
    page.click("#query-list [data-query=in_area]")
    page.select_option("#q-place-kind", "geometry")
    page.click("[data-param=geometry] [data-action=use-view]")
    page.check("#q-param-layers [data-layer=cctv] input")
    page.check("#q-param-layers [data-layer=dumping_points] input")
    page.click("#query-run")
    expect(page.locator("#query-matched")).to_be_visible()


def replay(page: Page, recorder: Recorder, path: str) -> httpx.Response:
    """Make the page's last request to `path` again over HTTP, with the same session token."""
    sent = [r.url for r in recorder.requests if urlsplit(r.url).path == path][-1]
    token = page.evaluate("sessionStorage.getItem('kendali.token')")
    return httpx.get(sent, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def sent_params(response: httpx.Response) -> dict[str, list[str]]:
    """Return the query parameters a request was made with."""
    return parse_qs(urlsplit(str(response.request.url)).query)


def test_in_area_answer_fills_the_table_and_the_map(
    page: Page, recorder: Recorder, dashboard_url: str, staff: str
) -> None:
    open_signed_in(page, dashboard_url, staff)
    run_in_area_over_view(page)
    direct = replay(page, recorder, "/collections/in_area/items")
    assert direct.status_code == 200, direct.text
    sent = sent_params(direct)
    assert sent["layers"] == ["cctv,dumping_points"] and sent["geometry"][0].startswith("POLYGON((")
    matched = direct.json()["numberMatched"]
    assert 0 < matched <= 5000
    expect(page.locator("#query-table tbody tr")).to_have_count(matched)
    drawn = page.evaluate(
        "async () => (await kendaliMap.getSource('kendali-query').getData()).features.length"
    )
    assert drawn == matched
    expect(page.locator("#query-result .area-summary .facts")).to_contain_text("ha")
    page.locator("#query-table tbody tr").first.click()
    expect(page.locator("#query-table tbody tr.selected")).to_have_count(1)
    page.wait_for_function("() => kendaliMap.loaded()")
    screenshot(page, "dashboard-query-in-area")
    assert recorder.errors == []


def test_waste_clusters_draw_polygons_and_export_csv(
    page: Page, recorder: Recorder, dashboard_url: str, staff: str
) -> None:
    open_signed_in(page, dashboard_url, staff)
    page.click("#query-list [data-query=waste_clusters]")
    page.fill("#q-param-hours", "0")
    page.fill("#q-param-min_points", "1")
    page.click("#query-run")
    expect(page.locator("#query-matched")).to_be_visible()
    direct = replay(page, recorder, "/collections/waste_clusters/items")
    matched = direct.json()["numberMatched"]
    expect(page.locator("#query-table tbody tr")).to_have_count(matched)
    assert page.evaluate("kendaliMap.getLayer('kendali-query-fill') !== undefined")
    page.wait_for_function("() => kendaliMap.loaded()")
    screenshot(page, "dashboard-query-waste-clusters")
    with page.expect_download() as info:
        page.click("#query-result [data-format=csv]")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as f:
        assert len(f.read().strip().splitlines()) == matched + 1  # a header and one line per cluster
    export = [r for r in recorder.requests if "/collections/waste_clusters/export" in r.url][-1]
    assert parse_qs(urlsplit(export.url).query)["min_points"] == ["1"]
    assert recorder.errors == []


def test_nearest_takes_a_point_picked_on_the_map(
    page: Page, recorder: Recorder, dashboard_url: str, staff: str
) -> None:
    open_signed_in(page, dashboard_url, staff)
    page.click("#query-list [data-query=nearest]")
    page.select_option("#q-place-kind", "point")
    page.select_option("#q-param-layer", "cctv")
    page.fill("#q-param-n", "7")
    page.click("[data-param=point] [data-action=pick]")
    box = page.locator("#map canvas").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#q-param-point")).to_have_value(re.compile(r"^128\.1\d+,-3\.[67]\d+$"))
    expect(page.locator("#details")).to_be_hidden()  # the pick did not open an asset
    page.click("#query-run")
    expect(page.locator("#query-table tbody tr")).to_have_count(7)
    sent = sent_params(replay(page, recorder, "/collections/nearest/items"))
    assert sent["layer"] == ["cctv"] and sent["n"] == ["7"] and "asset_id" not in sent
    assert page.evaluate("kendaliMap.getLayer('kendali-query-circle') !== undefined")
    assert recorder.errors == []


def test_an_out_of_range_number_shows_the_servers_message(
    page: Page, recorder: Recorder, dashboard_url: str, staff: str
) -> None:
    open_signed_in(page, dashboard_url, staff)
    page.click("#query-list [data-query=waste_clusters]")
    page.fill("#q-param-eps_m", "5")
    page.click("#query-run")
    expect(page.locator("#query-error")).to_be_visible()
    problem = replay(page, recorder, "/collections/waste_clusters/items")
    assert problem.status_code == 400
    assert "eps_m" in problem.json()["detail"] and "paling sedikit" in problem.json()["detail"]
    expect(page.locator("#query-error")).to_have_text(problem.json()["detail"])
    expect(page.locator("#query-result")).to_be_hidden()
    screenshot(page, "dashboard-query-error")


def test_the_language_toggle_switches_the_panel(page: Page, dashboard_url: str, staff: str) -> None:
    open_signed_in(page, dashboard_url, staff)
    page.click("#query-list [data-query=waste_clusters]")
    page.fill("#q-param-hours", "6")
    expect(page.locator("#queries h2")).to_have_text("Kueri")
    expect(page.locator("#query-run")).to_have_text("Jalankan")
    expect(page.locator("[data-param=eps_m] .param-title")).to_have_text("Jarak klaster")
    page.click("#lang-toggle")
    expect(page.locator("#queries h2")).to_have_text("Queries")
    expect(page.locator("#query-run")).to_have_text("Run")
    expect(page.locator("#query-clear")).to_have_text("Clear")
    expect(page.locator("[data-param=eps_m] .param-title")).to_have_text("Cluster distance")
    expect(page.locator("#query-list [data-query=in_area] b")).to_have_text("Assets in an area")
    expect(page.locator("#q-param-hours")).to_have_value("6")  # the form keeps what was typed


def test_anonymous_page_never_runs_a_query(page: Page, recorder: Recorder, dashboard_url: str) -> None:
    open_dashboard(page, dashboard_url)
    expect(page.locator("#queries-hint")).to_contain_text("Masuk")
    expect(page.locator("#query-list [data-query]")).to_have_count(0)
    page.wait_for_function("() => kendaliMap.loaded()")
    for url in recorder.urls():
        path = urlsplit(url).path
        assert not any(path.startswith((f"/collections/{q}/", f"/tiles/{q}/")) for q in QUERIES), url
    assert recorder.errors == []


def test_a_saved_response_area_shows_the_in_area_summary(
    page: Page, recorder: Recorder, dashboard_url: str, staff: str
) -> None:
    open_signed_in(page, dashboard_url, staff)
    page.click("#draw-start")
    click_corners(page)
    page.fill("#area-name", "Uji ringkasan area")
    page.click("#area-save")
    summary = page.locator("#area-panel .area-summary")
    expect(summary.locator(".facts")).to_contain_text("ha")
    area_id = page.evaluate("document.getElementById('details').dataset.feature")
    direct = replay(page, recorder, "/collections/in_area/summary").json()
    assert direct["parameters"]["area_id"] == int(area_id)
    total = f"Total aset: {direct['summary']['total']}"
    expect(summary.locator(".facts")).to_contain_text(total)
    screenshot(page, "dashboard-area-summary")
    assert recorder.errors == []
