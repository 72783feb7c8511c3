"""Pollers end to end: local HTTP and RTSP servers, committed test assets, statuses read back from PostGIS."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text

from ingest.poller_config import PollerConfigError, PollerSettings
from ingest.pollers import serve_pollers
from layers.access.auth import create_key
from layers.catalog import LAYERS
from layers.settings import DatabaseSettings
from tests.ingest._poll_servers import FakeRtsp, LocalHttp, closed_port

INSERT = text(
    "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency) VALUES "
    "(:l, :e, :n, ST_SetSRID(ST_MakePoint(128.18, -3.70), 4326), CAST(:p AS jsonb), :a) RETURNING id"
)
DEADLINE_S = 30.0
MIN_RUN_S = 2.5

POLLERS = """
[[poller]]
name = "pt-apps"
kind = "app_health"
match = "{prefix}-app-*"
interval_s = 0.3
timeout_s = 1.0

[[poller]]
name = "pt-cams"
kind = "camera_probe"
match = "{prefix}-cam-*"
interval_s = 0.3
timeout_s = 1.0

[[poller]]
name = "pt-feed"
kind = "http_json"
layer = "traffic_junctions"
url = "{http}/feed"
interval_s = 0.3
timeout_s = 1.0
[poller.mapping]
items = "data.counts"
external_id = "id"
value = "vehicles"
value_thresholds = [[0, "lancar"], [300, "padat"], [600, "macet"]]

[[poller]]
name = "pt-broken"
kind = "http_json"
layer = "traffic_junctions"
url = "{http}/fail"
interval_s = 0.1
timeout_s = 1.0
backoff_max_s = 60
[poller.mapping]
external_id = "id"
status = "s"
"""


def _assets(prefix: str, http: str, rtsp: int) -> list[tuple[str, str, dict[str, Any]]]:
    app = {"app_name": "Uji", "agency": "kominfo"}
    cam = {"view_direction_deg": 0, "fov_deg": 60, "range_m": 30}
    junction = {"signal_type": "none", "legs": 4}
    return [
        ("city_apps", "app-ok", app | {"app_code": "ok", "health_url": f"{http}/ok"}),
        ("city_apps", "app-slow", app | {"app_code": "slow", "health_url": f"{http}/slow"}),
        ("city_apps", "app-fail", app | {"app_code": "fail", "health_url": f"{http}/fail"}),
        ("cctv", "cam-rtsp", cam | {"camera_id": "r", "stream_url": f"rtsp://127.0.0.1:{rtsp}/live"}),
        ("cctv", "cam-closed", cam | {"camera_id": "c", "stream_url": f"rtsp://127.0.0.1:{closed_port()}/x"}),
        ("cctv", "cam-http", cam | {"camera_id": "h", "stream_url": f"{http}/ok"}),
        ("traffic_junctions", "jn-1", junction | {"junction_code": "j1"}),
        ("traffic_junctions", "jn-2", junction | {"junction_code": "j2"}),
    ]


@contextmanager
def committed_assets(
    engine: Engine, prefix: str, http: str, rtsp: int
) -> Iterator[tuple[dict[str, int], str]]:
    """Create the test's own assets and a reporting key, committed; remove them and what they caused after."""
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        for layer_id, suffix, props in _assets(prefix, http, rtsp):
            # Plain SQL: editing refuses a property named `agency`, which city_apps declares.
            values = {"l": layer_id, "e": f"{prefix}-{suffix}", "n": f"uji {suffix}", "p": json.dumps(props)}
            ids[suffix] = conn.execute(INSERT, values | {"a": LAYERS[layer_id].owner}).scalar_one()
        key = create_key(conn, f"{prefix}-key", ["kominfo-operator", "dishub-operator"])
    try:
        yield ids, key.secret
    finally:
        with engine.begin() as conn:
            drop = text("DELETE FROM events WHERE payload->'ids' @> ANY(CAST(:k AS jsonb[]))")
            conn.execute(drop, {"k": [f"[{i}]" for i in ids.values()]})
            conn.execute(text("DELETE FROM assets WHERE id = ANY(:i)"), {"i": list(ids.values())})
            conn.execute(text("DELETE FROM api_keys WHERE id = :k"), {"k": key.id})


class PollerThread:
    """serve_pollers in a thread with its own event loop, stopped from the test."""

    def __init__(self, settings: PollerSettings) -> None:
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._main, args=(settings,), daemon=True)

    def _main(self, settings: PollerSettings) -> None:
        async def go() -> None:
            self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
            self.ready.set()
            await serve_pollers(settings, self.stop)

        try:
            asyncio.run(go())
        except BaseException as exc:  # handed to the test thread
            self.error = exc
            self.ready.set()

    @contextmanager
    def running(self) -> Iterator[PollerThread]:
        """Run until the block ends, then stop and re-raise what the pollers raised."""
        self.thread.start()
        self.ready.wait(10)
        try:
            yield self
        finally:
            if self.error is None:
                self.loop.call_soon_threadsafe(self.stop.set)
            self.thread.join(20)
        if self.error is not None:
            raise self.error


def latest(engine: Engine, prefix: str) -> dict[str, dict[str, Any]]:
    """Return each test asset's latest status row, by its suffix."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.external_id, s.status, s.value, s.unit, s.source, s.details FROM assets a "
                "JOIN asset_status s ON s.asset_id = a.id WHERE a.external_id LIKE :p"
            ),
            {"p": f"{prefix}-%"},
        ).mappings()
        return {r["external_id"].removeprefix(f"{prefix}-"): dict(r) for r in rows}


EXPECTED = {
    "app-ok": "up",
    "app-slow": "down",
    "app-fail": "down",
    "cam-rtsp": "online",
    "cam-closed": "offline",
    "cam-http": "online",
    "jn-1": "padat",
    "jn-2": "lancar",
}


def wait_until(condition: Callable[[], bool], poller: PollerThread) -> None:
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE_S and poller.error is None:
        if condition() and time.monotonic() - started >= MIN_RUN_S:
            return
        time.sleep(0.1)


@dataclass
class PollRun:
    """What one bounded run of the pollers left behind."""

    prefix: str
    ids: dict[str, int]
    status: dict[str, dict[str, Any]]
    http: LocalHttp
    rtsp: FakeRtsp
    engine: Engine


@pytest.fixture(scope="module")
def poll_run(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PollRun]:
    """Run all four pollers against local servers until every test asset has its expected status."""
    prefix = f"pt-{secrets.token_hex(3)}"
    http, rtsp = LocalHttp(), FakeRtsp()
    http.feed = {
        "data": {
            "counts": [
                {"id": f"{prefix}-jn-1", "vehicles": 450},
                {"id": f"{prefix}-jn-2", "vehicles": 20},
                {"id": "nope", "vehicles": 1},
            ]
        }
    }
    path: Path = tmp_path_factory.mktemp("pollers") / "pollers.toml"
    path.write_text(POLLERS.format(prefix=prefix, http=http.url))
    with http.running(), rtsp.running(), committed_assets(engine, prefix, http.url, rtsp.port) as (ids, key):
        db = DatabaseSettings(url=database_url)  # type: ignore[arg-type]
        settings = PollerSettings(file=path, api_key=SecretStr(key), db=db)
        with PollerThread(settings).running() as poller:
            wait_until(
                lambda: {k: v["status"] for k, v in latest(engine, prefix).items()} == EXPECTED, poller
            )
        yield PollRun(prefix, ids, latest(engine, prefix), http, rtsp, engine)


def test_every_asset_gets_the_status_its_source_gives(poll_run: PollRun) -> None:
    assert {k: v["status"] for k, v in poll_run.status.items()} == EXPECTED


def test_app_health_reports_response_time_and_why_an_app_is_down(poll_run: PollRun) -> None:
    ok, failing, slow = (poll_run.status[k] for k in ("app-ok", "app-fail", "app-slow"))
    assert ok["unit"] == "ms" and ok["value"] >= 0 and ok["details"]["http_status"] == 200
    assert (failing["value"], failing["details"]["http_status"]) == (None, 500)
    assert slow["details"]["error"] == "timeout"


def test_slow_app_does_not_hold_back_the_healthy_one(poll_run: PollRun) -> None:
    with poll_run.engine.connect() as conn:
        first = dict(
            conn.execute(
                text(
                    "SELECT asset_id, min(received_at) FROM observations "
                    "WHERE asset_id = ANY(:i) GROUP BY asset_id"
                ),
                {"i": [poll_run.ids["app-ok"], poll_run.ids["app-slow"]]},
            ).all()
        )
    # Written in separate transactions: a shared batch would give both the same received_at.
    assert first[poll_run.ids["app-ok"]] < first[poll_run.ids["app-slow"]]


def test_camera_probe_speaks_rtsp_options(poll_run: PollRun) -> None:
    assert poll_run.status["cam-rtsp"]["details"]["rtsp_status"] == 200
    assert poll_run.status["cam-closed"]["details"]["error"] == "ConnectionRefusedError"
    assert poll_run.rtsp.requests[0].startswith(
        f"OPTIONS rtsp://127.0.0.1:{poll_run.rtsp.port}/live RTSP/1.0\n"
    )


def test_json_feed_sets_value_and_status_by_external_id(poll_run: PollRun) -> None:
    junctions = {k: (v["value"], v["unit"]) for k, v in poll_run.status.items() if k.startswith("jn-")}
    assert junctions == {"jn-1": (450.0, "veh/15min"), "jn-2": (20.0, "veh/15min")}


def test_reports_carry_the_poller_name_as_source(poll_run: PollRun) -> None:
    sources = {k: v["source"] for k, v in poll_run.status.items()}
    assert sources == {k: {"app": "pt-apps", "cam": "pt-cams", "jn-": "pt-feed"}[k[:3]] for k in EXPECTED}


def test_failing_source_is_retried_with_backoff(poll_run: PollRun) -> None:
    # Polled every 0.1 s for at least 2.5 s: about 25 requests without backoff, 4 to 7 with it.
    assert 3 <= poll_run.http.counts["/fail"] <= 8


def test_key_without_rights_on_the_layer_is_refused_at_start(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "pollers.toml"
    path.write_text('[[poller]]\nname = "pt-scope"\nkind = "app_health"\nmatch = "none-*"\n')
    with engine.begin() as conn:
        key = create_key(conn, "pt-scope", ["dlhp-operator"])
    try:
        db = DatabaseSettings(url=database_url)  # type: ignore[arg-type]
        settings = PollerSettings(file=path, api_key=SecretStr(key.secret), db=db)
        with pytest.raises(PollerConfigError, match="may not report on 'city_apps'"):
            asyncio.run(serve_pollers(settings, asyncio.Event()))
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM api_keys WHERE id = :k"), {"k": key.id})
