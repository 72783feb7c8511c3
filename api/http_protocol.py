"""The HTTP/1.1 protocol kendali serves with: uvicorn's httptools protocol, but a request the parser
refuses (a URL too long for it, a malformed request line or header) is answered with a problem body
in the caller's language, like every other error, instead of uvicorn's plain-text 400.

The URL limit the API itself enforces (api/limits.py, 414) is below the parser's, so this answers only
what never reaches the application.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import PROBLEM_JSON, lang_of, problem_body
from api.limits import MAX_URL_BYTES, url_too_long

MAX_HEADER_BYTES = 64 * 1024  # all header names and values of one request
PARSER_URL_BYTES = 65_535  # httptools cannot split a longer URL: past it, the URL is counted, not kept
HARD_URL_BYTES = 1024 * 1024  # past this, reading stops before the headers (and their language)


class HeadTooLarge(Exception):
    """Raised from a parser callback: the request line or headers passed their limit."""


def _refusal(
    url_bytes: int, header_bytes: int, headers: list[tuple[bytes, bytes]] | None
) -> tuple[int, bytes]:
    """Return the status and problem body for a request the parser could not read."""
    lang = lang_of(dict(headers or []).get(b"accept-language", b"").decode("latin-1"))
    if header_bytes > MAX_HEADER_BYTES:
        detail = (
            f"the request's headers are larger than {MAX_HEADER_BYTES} bytes"
            if lang == "en"
            else f"kepala permintaan lebih dari {MAX_HEADER_BYTES} bita"
        )
        body = problem_body(431, detail, lang, "headers_too_large", limit=MAX_HEADER_BYTES)
    elif url_bytes > MAX_URL_BYTES:
        body = problem_body(414, url_too_long(lang), lang, "uri_too_long", limit=MAX_URL_BYTES)
    else:
        detail = "the HTTP request could not be read" if lang == "en" else "permintaan HTTP tidak terbaca"
        body = problem_body(400, detail, lang, "malformed_request")
    return int(body["status"]), json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class ProblemHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering unreadable requests with problem+json."""

    header_bytes = 0
    url_bytes = 0

    def on_message_begin(self) -> None:
        """Start counting a new request's URL and header bytes."""
        super().on_message_begin()
        self.header_bytes = self.url_bytes = 0

    def on_url(self, url: bytes) -> None:
        """Collect the URL up to the longest the parser can split; count the rest, so the headers are
        still read and the refusal speaks the caller's language."""
        self.url_bytes += len(url)
        if self.url_bytes > HARD_URL_BYTES:
            raise HeadTooLarge
        if self.url_bytes <= PARSER_URL_BYTES:
            super().on_url(url)

    def on_headers_complete(self) -> None:
        """Refuse a URL that was only counted; otherwise go on as uvicorn does."""
        if self.url_bytes > PARSER_URL_BYTES:
            raise HeadTooLarge
        super().on_headers_complete()

    def on_header(self, name: bytes, value: bytes) -> None:
        """Collect one header, stopping once all of them pass MAX_HEADER_BYTES."""
        self.header_bytes += len(name) + len(value)
        if self.header_bytes > MAX_HEADER_BYTES:
            raise HeadTooLarge
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        """Write the problem answer and close the connection (what came before cannot be trusted)."""
        status, body = _refusal(self.url_bytes, self.header_bytes, getattr(self, "headers", None))
        reason = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}[status]
        head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: " + PROBLEM_JSON.encode() + b"\r\n")
        head.append(b"content-length: %d\r\n" % len(body))
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)
        self.transport.close()
