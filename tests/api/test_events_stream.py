"""`GET /events` over real servers: changes through another worker, resume, policy, staleness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from layers.live.events import latest_event_id
from tests._server import free_port, kendali_server
from tests.api._live_support import (
    Committed,
    SseMessage,
    SseReader,
    committed,
    names_asset,
    reports,
)

PUSH = "/ingest/status"


@pytest.fixture(scope="module")
def second_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another `kendali serve` (another worker) on the same database, checking staleness every second."""
    log_path = tmp_path_factory.mktemp("server-b") / "server.log"
    with kendali_server(
        database_url, free_port(), log_path, KENDALI_STALE_CHECK_S="1", KENDALI_ALERT_CHECK_S="3600"
    ) as url:
        yield url


@pytest.fixture
def rows(engine: Engine) -> Iterator[Committed]:
    yield from committed(engine, "sse-test")


@pytest.fixture
def streams() -> Iterator[list[SseReader]]:
    opened: list[SseReader] = []
    yield opened
    for stream in opened:
        stream.close()


def listen(
    opened: list[SseReader], url: str, headers: dict[str, str] | None = None, **params: str
) -> SseReader:
    """Open a stream and wait until it is subscribed (its `ready` message)."""
    stream = SseReader(url, headers, params)
    opened.append(stream)
    assert stream.response.status_code == 200
    stream.until(lambda m: m.event == "ready")
    return stream


def push(url: str, batch: list[dict[str, Any]], headers: dict[str, str]) -> None:
    response = httpx.post(f"{url}{PUSH}", json=batch, headers=headers, timeout=30)
    assert response.status_code == 200 and response.json()["accepted"] == len(batch), response.text


def state(message: SseMessage, asset_id: int) -> dict[str, Any]:
    return next(a for a in message.data["payload"]["assets"] if a["id"] == asset_id)


def test_a_change_pushed_through_one_worker_reaches_a_stream_on_another(
    server_url: str, second_server: str, rows: Committed, streams: list[SseReader]
) -> None:
    asset_id = rows.assets("dumping_points")[0]
    stream = listen(streams, server_url, layers="dumping_points")
    push(second_server, reports([asset_id], "full", rows.source, value=95), rows.key("dlhp-operator"))
    got = stream.until(lambda m: names_asset(m, "status", asset_id))[-1]
    assert got.id == str(got.data["id"]) and got.data["layer"] == "dumping_points"
    assert state(got, asset_id) | {"observed_at": None} == {
        "id": asset_id,
        "status": "full",
        "value": 95.0,
        "unit": "%",
        "observed_at": None,
        "stale": False,
    }


def test_last_event_id_replays_the_events_a_client_missed(
    server_url: str, engine: Engine, rows: Committed, streams: list[SseReader]
) -> None:
    assets = rows.assets("dumping_points", 2, offset=10)
    with engine.connect() as conn:
        last_seen = latest_event_id(conn)
    key = rows.key("dlhp-operator")
    for asset_id in assets:
        push(server_url, reports([asset_id], "half", rows.source), key)
    stream = SseReader(server_url, {"Last-Event-ID": str(last_seen)}, {"layers": "dumping_points"})
    streams.append(stream)
    replayed = [m for m in stream.until(lambda m: m.event == "ready") if m.event == "status"]
    named = [a for m in replayed for a in m.data["payload"]["ids"]]
    assert set(assets) <= set(named)
    assert all(int(m.id or 0) > last_seen for m in replayed)


def test_an_anonymous_stream_never_carries_taxpayers_events(
    server_url: str, second_server: str, rows: Committed, streams: list[SseReader]
) -> None:
    taxpayer, marker = rows.assets("taxpayers")[0], rows.assets("dumping_points", offset=20)[0]
    anonymous = listen(streams, server_url)
    bpprd = listen(streams, server_url, rows.key("bpprd-viewer"))
    push(second_server, reports([taxpayer], "offline", rows.source), rows.key("bpprd-operator"))
    push(second_server, reports([marker], "empty", rows.source), rows.key("dlhp-operator"))
    seen = anonymous.until(lambda m: names_asset(m, "status", marker))
    assert not [m for m in seen if m.data and m.data.get("layer") == "taxpayers"]
    assert bpprd.until(lambda m: names_asset(m, "status", taxpayer))[-1].data["layer"] == "taxpayers"


@pytest.mark.parametrize(("role", "sees_amount"), [("bpprd-operator", False), ("bpprd-analyst", True)])
def test_taxpayers_amounts_reach_analysts_only(
    server_url: str, rows: Committed, streams: list[SseReader], role: str, sees_amount: bool
) -> None:
    taxpayer = rows.assets("taxpayers", offset=5)[0]
    stream = listen(streams, server_url, rows.key(role), layers="taxpayers")
    push(server_url, reports([taxpayer], "online", rows.source, value=1_250_000), rows.key("bpprd-operator"))
    got = stream.until(lambda m: names_asset(m, "status", taxpayer))[-1]
    assert ("value" in state(got, taxpayer)) is sees_amount
    assert "1250000" not in str(got.data) or sees_amount


def test_an_asset_that_falls_silent_is_announced_stale_on_the_stream(
    server_url: str, second_server: str, rows: Committed, streams: list[SseReader]
) -> None:
    asset_id = rows.assets("dumping_points", offset=30)[0]
    stream = listen(streams, server_url, layers="dumping_points")
    rows.age(asset_id, timedelta(hours=7))
    got = stream.until(lambda m: names_asset(m, "stale", asset_id), timeout_s=30)[-1]
    assert state(got, asset_id)["stale"] is True


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"layers": "taxpayers"}, {}, 404),
        ({"layers": "no_such_layer"}, {}, 404),
        ({"last_event_id": "yesterday"}, {}, 400),
        ({}, {"Last-Event-ID": "-5"}, 400),
    ],
)
def test_a_stream_request_it_cannot_serve_gets_a_problem(
    server_url: str, params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    response = httpx.get(f"{server_url}/events", params=params, headers=headers, timeout=10)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
