"""Request body size limit as ASGI middleware: 413 with a problem body, checked before a route reads it."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised inside receive() when a streamed body passes the limit."""


class BodyLimit:
    """Refuse request bodies larger than `max_bytes` (by Content-Length, or while streaming)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, answering 413 as soon as its body is known to be too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send, self.max_bytes, _lang(scope))
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, self.max_bytes, _lang(scope))


def _lang(scope: Scope) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("lang", [""])[0] in ("id", "en"):
        return str(query["lang"][0])
    accept = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1").lower()
    return "en" if accept.startswith("en") else "id"


async def _refuse(send: Send, max_bytes: int, lang: str) -> None:
    english = lang == "en"
    body = json.dumps(
        {
            "type": "urn:kendali:problem:content_too_large",
            "title": "Content too large" if english else "Isi permintaan terlalu besar",
            "status": 413,
            "detail": f"the request body is larger than {max_bytes} bytes"
            if english
            else f"isi permintaan melebihi {max_bytes} bita",
            "code": "content_too_large",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
