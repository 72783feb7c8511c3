"""Test support for live status over real servers: a second `kendali serve`, an SSE reader, and cleanup of
the rows such tests commit (observations, events, keys; the latest statuses are restored)."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, delete, insert, text

from layers.access.auth import create_key
from layers.tables import asset_status

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class SseMessage:
    """One message of an event stream."""

    event: str
    id: str | None
    data: Any


class SseReader:
    """Reads an SSE stream in a thread; the test takes the parsed messages from a queue with a timeout."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, params: dict[str, str] | None = None):
        self.messages: queue.Queue[SseMessage | BaseException] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=None))
        self._request = self._client.build_request("GET", f"{url}/events", headers=headers, params=params)
        self.response = self._client.send(self._request, stream=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if "event" in fields or "data" in fields:
                        data = json.loads(fields["data"]) if "data" in fields else None
                        self.messages.put(SseMessage(fields.get("event", "message"), fields.get("id"), data))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except Exception as exc:  # the test closed the stream, or the server went away
            self.messages.put(exc)

    def next(self, timeout_s: float = 20) -> SseMessage:
        """Return the next message; fail the test when none comes within `timeout_s`."""
        try:
            item = self.messages.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout_s} s") from None
        if isinstance(item, BaseException):
            raise AssertionError(f"the stream ended: {item!r}")
        return item

    def until(self, found: Callable[[SseMessage], bool], timeout_s: float = 20) -> list[SseMessage]:
        """Return the messages up to and including the first that `found` accepts."""
        seen: list[SseMessage] = []
        deadline = time.monotonic() + timeout_s
        while True:
            seen.append(self.next(max(0.1, deadline - time.monotonic())))
            if found(seen[-1]):
                return seen

    def close(self) -> None:
        """Close the stream and its client (shutting the socket down unblocks the reading thread)."""
        stream = self.response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self._client.close()
        self._thread.join(timeout=10)


def names_asset(message: SseMessage, event: str, asset_id: int) -> bool:
    """Return whether `message` is an `event` event naming `asset_id`."""
    return message.event == event and asset_id in (message.data or {}).get("payload", {}).get("ids", [])


@dataclass
class Committed:
    """Rows a test commits for real servers, and their cleanup: keys, observations, events, statuses."""

    engine: Engine
    source: str
    start_event: int = 0
    key_ids: list[int] = field(default_factory=list)
    saved: dict[int, dict[str, Any] | None] = field(default_factory=dict)

    def key(self, *roles: str) -> dict[str, str]:
        """Create and commit an API key; return its Authorization header."""
        with self.engine.begin() as conn:
            new = create_key(conn, f"live-test-{self.source}", roles)
        self.key_ids.append(new.id)
        return {"Authorization": f"Bearer {new.secret}"}

    def assets(self, layer_id: str, n: int = 1, offset: int = 0) -> list[int]:
        """Return `n` asset ids of a layer, remembering their latest status to restore it afterwards."""
        with self.engine.connect() as conn:
            ids = conn.execute(
                text("SELECT id FROM assets WHERE layer_id = :l ORDER BY id OFFSET :o LIMIT :n"),
                {"l": layer_id, "o": offset, "n": n},
            ).scalars()
            found = [int(i) for i in ids]
            for asset_id in found:
                row = conn.execute(text("SELECT * FROM asset_status WHERE asset_id = :a"), {"a": asset_id})
                self.saved.setdefault(asset_id, dict(row.mappings().one_or_none() or {}) or None)
        return found

    def age(self, asset_id: int, by: timedelta) -> None:
        """Commit an older observed_at for an asset's latest status (as if it fell silent)."""
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE asset_status SET observed_at = :t WHERE asset_id = :a"),
                {"t": datetime.now(UTC) - by, "a": asset_id},
            )

    def cleanup(self) -> None:
        """Delete what the test committed and put the saved statuses back."""
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM observations WHERE source = :s"), {"s": self.source})
            for asset_id in self.saved:
                conn.execute(
                    text("DELETE FROM events WHERE id > :e AND payload->'ids' @> to_jsonb(:a)"),
                    {"e": self.start_event, "a": asset_id},
                )
            _restore(conn, self.saved.items())
            conn.execute(text("DELETE FROM api_keys WHERE id = ANY(:k)"), {"k": self.key_ids})


def _restore(conn: Any, saved: Iterable[tuple[int, dict[str, Any] | None]]) -> None:
    for asset_id, row in saved:
        conn.execute(delete(asset_status).where(asset_status.c.asset_id == asset_id))
        if row is not None:
            conn.execute(insert(asset_status).values(**row))


def committed(engine: Engine, source: str) -> Iterator[Committed]:
    """Yield a Committed for `source`, cleaning up after the test (use from a fixture)."""
    with engine.connect() as conn:
        start = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one())
    rows = Committed(engine, source, start)
    try:
        yield rows
    finally:
        rows.cleanup()


def reports(
    asset_ids: Iterable[int], status: str, source: str, value: float | None = None
) -> list[dict[str, Any]]:
    """Return one report per asset, observed now, as JSON-ready dicts."""
    at = datetime.now(UTC).isoformat()
    return [
        {"asset_id": a, "status": status, "value": value, "observed_at": at, "source": source}
        for a in asset_ids
    ]
