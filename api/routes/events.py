"""`GET /events`: the live stream (Server-Sent Events) of status changes, staleness, alerts, edits
(`feature`) and imports (`batch`, one per imported file)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException

from api.deps import LangDep, PrincipalDep, SessionDep
from api.errors import request_lang
from api.events import EventHub, HubFull, Message, Subscription
from api.params import bad
from geo.digits import whole_number
from layers.access.policy import Principal
from layers.live.stream import stream_view

router = APIRouter(tags=["live"])

MAX_LAYERS: Final = 20
MAX_EVENT_ID: Final = 2**63 - 1
RETRY_MS: Final = 3_000
RESETS: Final = {
    "slow_client": ("the stream fell behind; reload the map", "aliran tertinggal; muat ulang peta"),
    "too_many_missed": (
        "too many events were missed; reload the map",
        "terlalu banyak peristiwa terlewat; muat ulang peta",
    ),
}


def stream_principal(principal: PrincipalDep, session: SessionDep) -> Principal:
    """Return the caller, and give the session's connection back: a stream must not hold one for hours."""
    session.close()
    return principal


def layers_param(
    layers: Annotated[str | None, Query(max_length=1_000, description="Comma-separated layer ids")] = None,
) -> list[str] | None:
    """Return the layers asked for (`?layers=a,b`), or None for every visible layer."""
    if layers is None:
        return None
    names = [n.strip() for n in layers.split(",") if n.strip()]
    if not names or len(names) > MAX_LAYERS:
        raise bad("layers", f"name 1 to {MAX_LAYERS} layers", f"sebutkan 1 sampai {MAX_LAYERS} lapisan")
    return names


def resume_from(
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[str | None, Query(max_length=20)] = None,
) -> int | None:
    """Return the id to resume after: the Last-Event-ID header (sent on reconnect), else ?last_event_id."""
    raw = last_event_id_header if last_event_id_header is not None else last_event_id
    if raw is None or raw.strip() == "":
        return None
    number = whole_number(raw.strip(), 19)
    if number is None or number > MAX_EVENT_ID:
        raise bad("last_event_id", "must be an event id", "harus berupa id peristiwa")
    return number


def event_hub(request: Request) -> EventHub:
    """Return this worker's event hub (503 when the app runs without its live services)."""
    hub: EventHub | None = getattr(request.app.state, "event_hub", None)
    if hub is None:
        raise _unavailable(request, "the live stream is not running", "aliran langsung tidak berjalan")
    return hub


def _unavailable(request: Request, en: str, id_: str) -> HTTPException:
    return HTTPException(503, en if request_lang(request) == "en" else id_)


async def subscription(
    request: Request,
    principal: Annotated[Principal, Depends(stream_principal)],
    hub: Annotated[EventHub, Depends(event_hub)],
    wanted: Annotated[list[str] | None, Depends(layers_param)],
) -> AsyncIterator[Subscription]:
    """Subscribe the caller to the layers it may see (a hidden or unknown layer is 404) until it leaves."""
    view = stream_view(principal, wanted)
    try:
        sub = hub.subscribe(view)
    except HubFull:
        raise _unavailable(
            request, "too many live streams are open", "terlalu banyak aliran langsung"
        ) from None
    try:
        yield sub
    finally:
        hub.unsubscribe(sub)


@router.get("/events", response_class=EventSourceResponse, summary="Live events (Server-Sent Events)")
async def stream_events(
    request: Request,
    sub: Annotated[Subscription, Depends(subscription)],
    resume: Annotated[int | None, Depends(resume_from)],
    hub: Annotated[EventHub, Depends(event_hub)],
    lang: LangDep,
) -> AsyncIterable[ServerSentEvent]:
    """Stream the live events of the layers the caller may see; resume with Last-Event-ID."""
    replayed: set[int] = set()
    if resume is not None:
        backlog = await hub.replay(sub.view, resume)
        if backlog is None:
            yield _reset(hub, "too_many_missed", lang)
            return
        for message in backlog:
            replayed.add(message.id)
            yield _sse(message)
    yield ServerSentEvent(event="ready", data={"last_event_id": hub.cursor}, retry=RETRY_MS)
    async for message in _live(request, sub):
        if message.id not in replayed:
            yield _sse(message)
    if sub.dropped_at is not None:
        yield _reset(hub, "slow_client", lang)


def _sse(message: Message) -> ServerSentEvent:
    return ServerSentEvent(id=str(message.id), event=message.type, raw_data=message.data)


def _reset(hub: EventHub, reason: str, lang: str) -> ServerSentEvent:
    """Tell the client to reload; its id lets an EventSource reconnect from now rather than replay."""
    en, id_ = RESETS[reason]
    cursor = hub.cursor or 0
    detail = en if lang == "en" else id_
    return ServerSentEvent(id=str(cursor), event="reset", data={"reason": reason, "detail": detail})


async def _live(request: Request, sub: Subscription) -> AsyncIterator[Message]:
    """Yield the subscription's messages until it is closed or the client goes away."""
    gone = asyncio.create_task(_disconnected(request))
    getter: asyncio.Task[Message | None] | None = None
    try:
        while True:
            getter = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({getter, gone}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                return
            message = getter.result()
            if message is None:
                return
            yield message
    finally:
        gone.cancel()
        if getter is not None:
            getter.cancel()


async def _disconnected(request: Request) -> None:
    """Return when the client has gone (so a stream ends without waiting for the next heartbeat)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
