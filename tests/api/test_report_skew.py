"""How far in the future a report may be stamped is a setting (issue 14, item 6): a real server started
with KENDALI_REPORT_MAX_FUTURE_S accepts what the default refuses, and the reason names the bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from layers.access.auth import create_key
from tests._server import free_port, kendali_server


def _push(base: str, key: str, external_id: str, ahead: timedelta) -> dict[str, object]:
    report = {
        "layer": "dumping_points",
        "external_id": external_id,
        "status": "half",
        "observed_at": (datetime.now(UTC) + ahead).isoformat(),
    }
    response = httpx.post(
        f"{base}/ingest/status?lang=en", json=[report], headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()["results"][0]
    return result


def test_the_allowed_clock_skew_is_configurable(database_url: str, engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        key = create_key(conn, "skew-test", ["dlhp-operator"])
        external_id = "SKEW-TEST-1"  # an asset of its own: a future-stamped status stays its latest
        asset_id = conn.execute(
            text(
                "INSERT INTO assets (layer_id, external_id, name, geom, agency)"
                " VALUES ('dumping_points', :e, 'Skew test', ST_SetSRID(ST_MakePoint(128.18, -3.69), 4326),"
                " 'dlhp') RETURNING id"
            ),
            {"e": external_id},
        ).scalar_one()
    half_an_hour = timedelta(minutes=30)
    try:
        with kendali_server(database_url, free_port(), tmp_path / "default.log") as base:
            refused = _push(base, key.secret, external_id, half_an_hour)
            assert refused["outcome"] == "rejected"
            assert "300 seconds after now" in str(refused["reason"])
            assert _push(base, key.secret, external_id, timedelta(minutes=2))["outcome"] == "accepted"
        env = {"KENDALI_REPORT_MAX_FUTURE_S": "3600"}
        with kendali_server(database_url, free_port(), tmp_path / "lenient.log", **env) as base:
            assert _push(base, key.secret, external_id, half_an_hour)["outcome"] == "accepted"
            too_far = _push(base, key.secret, external_id, timedelta(hours=2))
            assert "3600 seconds after now" in str(too_far["reason"])
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM api_keys WHERE id = :i"), {"i": key.id})
            conn.execute(text("DELETE FROM assets WHERE id = :i"), {"i": asset_id})
