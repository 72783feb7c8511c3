"""Limits every request meets before a route reads it, as ASGI middleware, answered with problem bodies:
body size (413), URL length (414), and NUL characters, which PostgreSQL cannot store in text (400)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem, request_lang

# Below the HTTP parser's own ceiling (65,535 bytes), so that every long URL gets this clear answer.
MAX_URL_BYTES = 60 * 1024


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
            await _refuse(scope, send, self.max_bytes)
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
                await _refuse(scope, send, self.max_bytes)


# A JSON \u0000 escape not itself escaped (an even run of backslashes before it), or a raw NUL byte.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00", re.IGNORECASE)
JSON_TYPES = (b"application/json", b"application/geo+json", b"application/merge-patch+json")


def _nul_in_head(scope: Scope) -> str | None:
    """Return where the request's path, query or headers hold a NUL character, if they do."""
    if "\x00" in scope.get("path", ""):
        return "path"
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "")[:64] or "query"
    for name, value in scope["headers"]:
        if b"\x00" in value:
            return str(name.decode("latin-1"))[:64]
    return None


class TextGuard:
    """Refuse a URL past MAX_URL_BYTES (414), and a NUL character in the path, a query value, a header
    or a JSON body (400, not a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on unless it carries a NUL character somewhere PostgreSQL would get it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string", b"")) > MAX_URL_BYTES:
            await _refuse_url(scope, send)
            return
        where = _nul_in_head(scope)
        if where is not None:
            await _refuse_nul(scope, send, where)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:  # the body limit below this middleware bounds what is buffered here
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message)
            more = message.get("more_body", False)
        if _JSON_NUL.search(b"".join(m.get("body", b"") for m in chunks)):
            await _refuse_nul(scope, send, "body")
            return
        await self.app(scope, _replay(chunks, receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """Return a receive() that gives these messages first, then what `then` gives."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


async def _refuse_nul(scope: Scope, send: Send, where: str) -> None:
    lang = request_lang(Request(scope))
    detail = (
        f"{where}: text may not contain the NUL character (U+0000)"
        if lang == "en"
        else f"{where}: teks tidak boleh memuat karakter NUL (U+0000)"
    )
    await problem(400, detail, lang, "nul_character", parameter=where)(scope, _no_body, send)


def url_too_long(lang: str) -> str:
    """Return why a long URL is refused, and the way in for what it carried."""
    if lang == "en":
        return (
            f"the URL is longer than {MAX_URL_BYTES} bytes; send a query layer's parameters as a JSON body "
            "with POST"
        )
    return (
        f"alamat lebih dari {MAX_URL_BYTES} bita; kirim parameter lapisan kueri sebagai isi JSON dengan POST"
    )


async def _refuse_url(scope: Scope, send: Send) -> None:
    lang = request_lang(Request(scope))
    response = problem(414, url_too_long(lang), lang, "uri_too_long", limit=MAX_URL_BYTES)
    await response(scope, _no_body, send)


async def _refuse(scope: Scope, send: Send, max_bytes: int) -> None:
    lang = request_lang(Request(scope))
    detail = (
        f"the request body is larger than {max_bytes} bytes"
        if lang == "en"
        else f"isi permintaan melebihi {max_bytes} bita"
    )
    await problem(413, detail, lang, "content_too_large")(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
