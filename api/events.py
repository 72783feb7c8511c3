"""The live event hub of one API worker: one LISTEN connection, fanned out to in-process SSE subscribers.

Every worker process listens on its own connection, so a change committed through any worker reaches
the subscribers of all of them. Notifications carry event ids; the hub reads those events back from the
log (a NOTIFY is only delivered after its commit, so the row is there), retires the cached tiles each
event changed, and queues each subscriber the cut its policy allows. Events carry what they describe
(the write path recorded the assets' new states and touched tiles), so nothing else is read per event.
After a lost connection it reconnects with backoff and catches up from the log, so nothing committed
meanwhile is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from layers.live.events import CHANNEL, Event, events_after, latest_event_id
from layers.live.retire import retire_tiles
from layers.live.stream import StreamView, events_by_ids, live_events_after, shaped_json

log = logging.getLogger(__name__)

READ_BATCH = 500  # ids read back per query
MAX_REPLAY = 5_000  # missed events a resuming client may replay; more and it is told to reload
SEEN = 20_000  # ids remembered to skip doubles after a catch-up
BACKOFF_S = (0.5, 30.0)
LISTENER_NAME = "kendali-events"  # application_name of the LISTEN connection, with the worker's PID


@dataclass(frozen=True, slots=True)
class Message:
    """One SSE message: the event id, its type, and its JSON data (already cut for the subscriber)."""

    id: int
    type: str
    data: str


@dataclass(eq=False, slots=True)
class Subscription:
    """One SSE client of this worker: what it may see and its bounded queue (None in it means: stop)."""

    view: StreamView
    queue: asyncio.Queue[Message | None]
    dropped_at: int | None = None  # the event id at which a client that fell behind was dropped
    closed: bool = False

    def offer(self, message: Message) -> None:
        """Queue a message; a client whose queue is full is dropped (it will be told to reload)."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped_at = message.id
            self.close()

    def close(self) -> None:
        """End the stream: drop what is queued and wake the client's reader with None."""
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class HubFull(Exception):
    """This worker already serves as many stream clients as it may."""


class EventHub:
    """Listens for event notifications and fans them out to this worker's subscribers."""

    def __init__(self, engine: Engine, queue_size: int = 1_000, max_clients: int = 1_000) -> None:
        self.engine = engine
        self.queue_size = queue_size
        self.max_clients = max_clients
        self.cursor: int | None = None  # highest event id handed out (None until the first connect)
        self.connected = asyncio.Event()
        self._subscribers: set[Subscription] = set()
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def subscribers(self) -> int:
        """Return how many clients this worker streams to."""
        return len(self._subscribers)

    def start(self) -> None:
        """Start listening and dispatching (the database may still be down; the listener retries)."""
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._dispatch())]

    async def stop(self) -> None:
        """Stop the tasks and end every open stream."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sub in list(self._subscribers):
            sub.close()
        self._subscribers.clear()

    def subscribe(self, view: StreamView) -> Subscription:
        """Register a client; raise HubFull past `max_clients`."""
        if len(self._subscribers) >= self.max_clients:
            raise HubFull
        sub = Subscription(view, asyncio.Queue(self.queue_size))
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a client (idempotent)."""
        self._subscribers.discard(sub)

    async def replay(self, view: StreamView, after_id: int) -> list[Message] | None:
        """Return the messages a client missed after `after_id`, or None when too many were missed."""
        events = await asyncio.to_thread(self._read_after, after_id)
        if len(events) > MAX_REPLAY:
            return None
        return [m for e in events if (m := _message(e, view)) is not None]

    def _read_after(self, after_id: int) -> list[Event]:
        with self.engine.connect() as conn:
            return live_events_after(conn, after_id, MAX_REPLAY + 1)

    async def _listen(self) -> None:
        delay = BACKOFF_S[0]
        while True:
            try:
                await self._listen_once()
            except Exception as exc:  # the listener must outlive any database failure
                log.warning("event listener lost the database (%s); retrying in %.1f s", exc, delay)
            if self.connected.is_set():
                delay = BACKOFF_S[0]
            self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_S[1])

    async def _listen_once(self) -> None:
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await psycopg.AsyncConnection.connect(
            url,
            autocommit=True,
            application_name=f"{LISTENER_NAME}-{os.getpid()}",
            connect_timeout=10,
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
        )
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
            await self._catch_up()
            self.connected.set()
            async for note in conn.notifies():
                self._note(note.payload)

    async def _catch_up(self) -> None:
        """Queue the events committed while no connection listened (none on the first connect)."""
        if self.cursor is None:
            self.cursor = await asyncio.to_thread(self._latest)
            return
        missed = await asyncio.to_thread(self._ids_after, self.cursor)
        self._pending.update(i for i in missed if i not in self._seen)
        self._wake.set()

    def _latest(self) -> int:
        with self.engine.connect() as conn:
            return latest_event_id(conn)

    def _ids_after(self, after_id: int) -> list[int]:
        ids: list[int] = []
        with self.engine.connect() as conn:
            while len(ids) < SEEN and (page := events_after(conn, ids[-1] if ids else after_id)):
                ids.extend(e.id for e in page)
        return ids

    def _note(self, payload: str) -> None:
        try:
            event_id = int(json.loads(payload)["id"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed event notification")
            return
        if event_id not in self._seen:
            self._pending.add(event_id)
            self._wake.set()

    async def _dispatch(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                ids = sorted(self._pending)[:READ_BATCH]
                self._pending.difference_update(ids)
                try:
                    events = await asyncio.to_thread(self._read, ids)
                except Exception:  # the database went away: keep the ids, the listener reconnects
                    log.warning("could not read events %s..%s; retrying", ids[0], ids[-1], exc_info=True)
                    self._pending.update(ids)
                    await asyncio.sleep(1)
                    continue
                for event in events:
                    retire_tiles(event)
                    self._fan_out(event)

    def _read(self, ids: list[int]) -> list[Event]:
        with self.engine.connect() as conn:
            return events_by_ids(conn, ids)

    def _fan_out(self, event: Event) -> None:
        self._remember(event.id)
        texts: dict[frozenset[str], str] = {}
        for sub in list(self._subscribers):
            hidden = sub.view.cut(event)
            if hidden is None:
                continue
            if hidden not in texts:
                texts[hidden] = shaped_json(event, hidden)
            sub.offer(Message(event.id, event.type, texts[hidden]))

    def _remember(self, event_id: int) -> None:
        self.cursor = max(self.cursor or 0, event_id)
        self._seen[event_id] = None
        while len(self._seen) > SEEN:
            self._seen.popitem(last=False)


def _message(event: Event, view: StreamView) -> Message | None:
    hidden = view.cut(event)
    return None if hidden is None else Message(event.id, event.type, shaped_json(event, hidden))
