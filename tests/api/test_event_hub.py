"""The event hub of one worker: fan-out by policy, slow clients dropped, and a listener that reconnects."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import Engine, text

from api.events import LISTENER_NAME, EventHub, Message, Subscription
from layers.access.policy import ANONYMOUS
from layers.live.events import record_event
from layers.live.stream import stream_view

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _commit_event(engine: Engine, layer_id: str) -> int:
    with engine.begin() as conn:
        return record_event(conn, "hub-test", layer_id, {"ids": []})


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
