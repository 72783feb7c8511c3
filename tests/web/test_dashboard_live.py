"""Live status on the dashboard: a pushed status repaints its asset; anonymous never sees restricted data;
an import reloads its layer once."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from layers.access.auth import create_key
from tests.ingest._import_files import points, write_file
from tests.web._browser import Recorder, open_dashboard, pixel, screenshot

SOURCE = "dashboard-test"
OFFLINE_RED = (0xC6, 0x28, 0x28)
ONLINE_GREEN = (0x2E, 0x7D, 0x32)
NEXT_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


@pytest.fixture
def reporter(engine: Engine) -> Iterator[dict[str, str]]:
    """A committed device key of the Command Center and of BPPRD; reports it wrote are removed afterwards."""
    with engine.begin() as conn:
        key = create_key(conn, "dashboard-test", ["kominfo-operator", "bpprd-operator"])
        saved = conn.execute(text("SELECT * FROM asset_status")).mappings().all()
    yield {"Authorization": f"Bearer {key.secret}"}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM observations WHERE source = :s"), {"s": SOURCE})
        touched = [dict(r) for r in saved if r["source"] != SOURCE]
        conn.execute(text("DELETE FROM asset_status WHERE source = :s"), {"s": SOURCE})
        restore = text(
            "INSERT INTO asset_status"
            " (asset_id, status, value, unit, observed_at, received_at, source, details)"
            " VALUES (:asset_id, :status, :value, :unit, :observed_at, :received_at, :source, :details)"
            " ON CONFLICT (asset_id) DO NOTHING"
        )
        conn.execute(restore, [r | {"details": _json(r["details"])} for r in touched])
        conn.execute(text("DELETE FROM api_keys WHERE id = :id"), {"id": key.id})


def _json(value: Any) -> str:
    return json.dumps(value)


def camera(engine: Engine) -> tuple[int, float, float]:
    """Return the camera nearest the centre: id, lon, lat."""
    sql = text(
        "SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM assets WHERE layer_id = 'cctv'"
        " ORDER BY geom <-> ST_SetSRID(ST_MakePoint(128.18, -3.70), 4326) LIMIT 1"
    )
    with engine.connect() as conn:
        row = conn.execute(sql).one()
    return int(row.id), float(row.lon), float(row.lat)


def push(url: str, headers: dict[str, str], **report: object) -> None:
    body = {"reports": [{"observed_at": datetime.now(UTC).isoformat(), "source": SOURCE, **report}]}
    response = httpx.post(f"{url}/ingest/status", json=body, headers=headers, timeout=10)
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text


def pushed_colour(
    page: Page, url: str, key: dict[str, str], asset: tuple[int, float, float], status: str
) -> Any:
    """Push a camera's status and return the colour it is drawn in once the event has arrived."""
    asset_id, lon, lat = asset
    push(url, key, asset_id=asset_id, status=status)
    state = f"kendaliMap.getFeatureState({{source: 'kendali-cctv', sourceLayer: 'cctv', id: {asset_id}}})"
    page.wait_for_function(f"() => {state}.status === '{status}' && {state}.stale === false")
    page.wait_for_function(NEXT_FRAME)
    return pixel(page, lon, lat)


def test_a_pushed_status_repaints_its_asset(
    page: Page, engine: Engine, dashboard_url: str, reporter: dict[str, str]
) -> None:
    asset = camera(engine)
    open_dashboard(page, dashboard_url)
    page.wait_for_selector("#live-state[data-state=on]")
    page.evaluate(f"kendaliMap.jumpTo({{center: [{asset[1]}, {asset[2]}], zoom: 17}})")
    page.wait_for_function(
        f"() => kendaliMap.loaded() && kendaliMap.queryRenderedFeatures({{layers: ['cctv-circle']}})"
        f".some(f => f.id === {asset[0]})"
    )
    assert pushed_colour(page, dashboard_url, reporter, asset, "online") == pytest.approx(ONLINE_GREEN, abs=8)
    assert pushed_colour(page, dashboard_url, reporter, asset, "offline") == pytest.approx(OFFLINE_RED, abs=8)
    screenshot(page, "dashboard-live-offline")


def test_anonymous_never_receives_restricted_data(
    page: Page, recorder: Recorder, engine: Engine, dashboard_url: str, reporter: dict[str, str]
) -> None:
    with engine.connect() as conn:
        taxpayer, nop, business = conn.execute(
            text(
                "SELECT id, properties->>'nop', properties->>'business_name' FROM assets"
                " WHERE layer_id = 'taxpayers' LIMIT 1"
            )
        ).one()
    camera_id = camera(engine)[0]
    open_dashboard(page, dashboard_url)
    page.wait_for_selector("#live-state[data-state=on]")
    push(dashboard_url, reporter, asset_id=taxpayer, status="offline")
    push(
        dashboard_url, reporter, asset_id=camera_id, status="offline"
    )  # later: once it is here, so is the first
    arrived = f"e => e.type === 'status' && (e.body?.payload?.ids || e.body?.ids || []).includes({camera_id})"
    page.wait_for_function(f"() => (window.kendaliEvents || []).some({arrived})")
    page.fill("#search-input", nop)
    page.press("#search-input", "Enter")
    expect(page.locator("#search-results")).to_have_text("Tidak ditemukan")
    assert "taxpayers" not in page.evaluate("JSON.stringify(window.kendaliEvents)")
    assert not [u for u in recorder.urls() if "taxpayers" in u or "bpprd" in u]
    for response in recorder.responses:
        kind = response.headers.get("content-type", "")
        if "/web/" in response.url or "event-stream" in kind or not response.url.startswith(dashboard_url):
            continue  # the dashboard's own code is public; the live stream is checked through its events
        body = response.body()
        assert b"taxpayers" not in body and business.encode() not in body, response.url


COUNT_RELOADS = """() => {
  const source = kendaliMap.getSource('kendali-dumping_points');
  window.layerReloads = 0;
  for (const name of ['setTiles', 'setData']) {
    if (typeof source[name] !== 'function') continue;
    const original = source[name].bind(source);
    source[name] = (...args) => { window.layerReloads += 1; return original(...args); };
  }
}"""


@pytest.fixture
def importer(engine: Engine) -> Iterator[tuple[dict[str, str], str]]:
    """A committed DLHP editor key and a prefix for the external ids it imports; both removed afterwards."""
    prefix = f"web-import-{secrets.token_hex(3)}"
    with engine.begin() as conn:
        key = create_key(conn, "dashboard-import", ["dlhp-editor"])
        last_event = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one())
    yield {"Authorization": f"Bearer {key.secret}"}, prefix
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE id > :e AND type = 'batch'"), {"e": last_event})
        conn.execute(text("DELETE FROM audit_log WHERE after->>'external_id' LIKE :p"), {"p": f"{prefix}%"})
        conn.execute(text("DELETE FROM assets WHERE external_id LIKE :p"), {"p": f"{prefix}%"})
        conn.execute(text("DELETE FROM api_keys WHERE id = :id"), {"id": key.id})


def test_an_imported_file_reloads_its_layer_once(
    page: Page, dashboard_url: str, importer: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    headers, prefix = importer
    path = write_file(tmp_path, "geojson", points(5, prefix))
    open_dashboard(page, dashboard_url)
    page.wait_for_selector("#live-state[data-state=on]")
    page.evaluate(COUNT_RELOADS)
    files = {"file": (path.name, path.read_bytes())}
    response = httpx.post(
        f"{dashboard_url}/collections/dumping_points/import", files=files, headers=headers, timeout=60
    )
    assert response.status_code == 200 and response.json()["inserted"] == 5, response.text
    page.wait_for_function("() => (window.kendaliEvents || []).some(e => e.type === 'batch')")
    events = page.evaluate("window.kendaliEvents.filter(e => e.body?.layer === 'dumping_points')")
    assert [e["type"] for e in events if e["type"] in ("batch", "feature")] == ["batch"]
    assert page.evaluate("window.layerReloads") == 1
