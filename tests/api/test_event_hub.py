"""The event hub of one worker: fan-out by policy, nothing read per event but the event, tiles retired,
slow clients dropped, and a listener that reconnects."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from api.events import LISTENER_NAME, EventHub, Message, Subscription
from geo.tiles import TileKey
from layers.access.policy import ANONYMOUS, field_view, principal_for
from layers.catalog import LAYERS
from layers.db import create_db_engine
from layers.live.events import record_event, recording
from layers.live.status import StatusReport, write_reports
from layers.live.stream import stream_view
from layers.settings import DatabaseSettings
from layers.tiles.cache import CACHE
from tests.api._live_support import Committed, committed

pytestmark = pytest.mark.anyio
TILE = TileKey(16, 56_000, 33_400)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _commit_event(engine: Engine, layer_id: str, type_: str = "hub-test") -> int:
    with engine.begin() as conn:
        return record_event(conn, type_, layer_id, {"ids": []})


def _drop_listener(engine: Engine) -> int:
    with engine.begin() as conn:
        return len(
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": f"{LISTENER_NAME}-{os.getpid()}"},
            ).all()
        )


def _forget_events(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE type = 'hub-test'"))


def _commit_status(database_url: str, asset_id: int, source: str) -> int:
    """Commit one status report through an engine of its own (so the hub's engine runs only the hub's SQL)."""
    writer = create_db_engine(DatabaseSettings(url=database_url))  # type: ignore[arg-type]
    report = StatusReport(
        "full", datetime.now(UTC) + timedelta(seconds=1), source, asset_id=asset_id, value=77.0
    )
    try:
        with recording() as recorded, writer.begin() as conn:
            write_reports(conn, principal_for("k", ["dlhp-operator"], kind="key"), [report])
        return recorded[0].id
    finally:
        writer.dispose()


async def _message(sub: Subscription, event_id: int) -> Message:
    while (message := await asyncio.wait_for(sub.queue.get(), 20)) is not None:
        if message.id == event_id:
            return message
    raise AssertionError("the stream ended")


@pytest.fixture
def rows(engine: Engine) -> Iterator[Committed]:
    yield from committed(engine, "hub-test")


async def _started(engine: Engine) -> EventHub:
    hub = EventHub(engine, queue_size=10)
    hub.start()
    await asyncio.wait_for(hub.connected.wait(), 20)
    return hub


async def test_a_committed_event_reaches_only_subscribers_who_may_see_it(engine: Engine) -> None:
    hub = await _started(engine)
    try:
        cameras = hub.subscribe(stream_view(ANONYMOUS, ["cctv"]))
        dumping_points = hub.subscribe(stream_view(ANONYMOUS, ["dumping_points"]))
        event_id = await asyncio.to_thread(_commit_event, engine, "cctv")
        message = await asyncio.wait_for(cameras.queue.get(), 20)
        assert message is not None and (message.id, message.type) == (event_id, "hub-test")
        assert dumping_points.queue.empty()
    finally:
        await hub.stop()
        _forget_events(engine)


async def test_a_status_event_is_forwarded_without_reading_statuses_or_geometry(
    engine: Engine, database_url: str, rows: Committed
) -> None:
    asset_id = rows.assets("dumping_points", offset=40)[0]
    hub = await _started(engine)
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        sub = hub.subscribe(stream_view(ANONYMOUS, ["dumping_points"]))
        event_id = await asyncio.to_thread(_commit_status, database_url, asset_id, rows.source)
        payload = json.loads((await _message(sub, event_id)).data)["payload"]
        assert payload["assets"][0] | {"observed_at": None} == {
            "id": asset_id,
            "status": "full",
            "value": 77.0,
            "unit": "%",
            "observed_at": None,
            "stale": False,
        }
        assert statements and all("events" in s and "asset" not in s for s in statements), statements
    finally:
        event.remove(engine, "before_cursor_execute", note)
        await hub.stop()


async def test_the_hub_retires_the_cached_tiles_of_each_committed_event(engine: Engine) -> None:
    parts = [(LAYERS["cctv"], field_view(ANONYMOUS, LAYERS["cctv"]))]
    hub = await _started(engine)
    try:
        sub = hub.subscribe(stream_view(ANONYMOUS, ["cctv"]))
        before = CACHE.key(parts, TILE)
        event_id = await asyncio.to_thread(_commit_event, engine, "cctv", "feature")
        await _message(sub, event_id)
        assert CACHE.key(parts, TILE) != before
    finally:
        await hub.stop()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE type = 'feature' AND payload = '{\"ids\": []}'"))


async def test_the_listener_reconnects_and_delivers_what_was_committed_meanwhile(engine: Engine) -> None:
    hub = await _started(engine)
    try:
        sub = hub.subscribe(stream_view(ANONYMOUS, ["cctv"]))
        assert await asyncio.to_thread(_drop_listener, engine) == 1
        event_id = await asyncio.to_thread(_commit_event, engine, "cctv")
        message = await asyncio.wait_for(sub.queue.get(), 30)
        assert message is not None and message.id == event_id
        await asyncio.wait_for(hub.connected.wait(), 20)
    finally:
        await hub.stop()
        _forget_events(engine)


async def test_a_client_that_falls_behind_is_dropped_and_woken() -> None:
    sub = Subscription(stream_view(ANONYMOUS), asyncio.Queue(2))
    for n in (1, 2, 3):
        sub.offer(Message(n, "status", "{}"))
    assert sub.dropped_at == 3 and sub.closed
    assert await sub.queue.get() is None and sub.queue.empty()
