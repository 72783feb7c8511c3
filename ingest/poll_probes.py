"""Network probes of the pollers: HTTP health checks, camera reachability (HTTP or RTSP OPTIONS), JSON fetch.

Each probe is bounded by one overall timeout (httpx's own timeouts are per operation, so a server that
drips bytes could otherwise hold a probe for ever). Only http, https and rtsp URLs are ever contacted.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import httpx

from geo.digits import whole_number

RTSP_PORT: Final = 554
RTSP_LINE_MAX: Final = 4096
HTTP_SCHEMES: Final = ("http", "https")


@dataclass(frozen=True, slots=True)
class Probe:
    """The result of probing one URL: reachable or not, the response time and what was seen."""

    ok: bool
    elapsed_ms: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


class FetchError(Exception):
    """A JSON source could not be fetched or parsed; the message says why."""


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _failure(exc: BaseException) -> Probe:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return Probe(False, details={"error": "timeout"})
    return Probe(False, details={"error": type(exc).__name__})


async def http_probe(client: httpx.AsyncClient, url: str, timeout_s: float) -> Probe:
    """GET a URL and read only its status line and headers: ok when the status is below 400."""
    if urlsplit(url).scheme.lower() not in HTTP_SCHEMES:
        return Probe(False, details={"error": "scheme not allowed"})
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream("GET", url, timeout=timeout_s) as response:
                code = response.status_code
    except (httpx.HTTPError, OSError, TimeoutError) as exc:
        return _failure(exc)
    return Probe(code < 400, _ms(started), {"http_status": code})


def _rtsp_request(url: str) -> tuple[str, int, bytes]:
    """Return host, port and the OPTIONS request for an rtsp:// URL (credentials left out of the line)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "rtsp" or not parts.hostname:
        raise ValueError("not an rtsp:// URL with a host")
    port = parts.port or RTSP_PORT
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    target = urlunsplit(("rtsp", f"{host}:{port}", parts.path or "/", parts.query, ""))
    if any(c in target for c in "\r\n "):
        raise ValueError("the URL holds characters not allowed in a request line")
    request = f"OPTIONS {target} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: kendali-probe\r\n\r\n"
    return parts.hostname, port, request.encode("ascii", "strict")


async def rtsp_probe(url: str, timeout_s: float) -> Probe:
    """Send an RTSP OPTIONS request: ok when the server answers with an RTSP status below 500."""
    try:
        host, port, request = _rtsp_request(url)
    except (ValueError, UnicodeEncodeError):
        return Probe(False, details={"error": "bad rtsp url"})
    started = time.perf_counter()
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port, limit=RTSP_LINE_MAX)
            writer.write(request)
            await writer.drain()
            line = await reader.readline()
    except (OSError, TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
        return _failure(exc)
    finally:
        if writer is not None:
            writer.close()
    version, _, rest = line.decode("latin-1").strip().partition(" ")
    code = rest.partition(" ")[0]
    status = whole_number(code, 3)
    if version != "RTSP/1.0" or status is None:
        return Probe(False, _ms(started), {"error": "not an RTSP answer"})
    # 401/403/404 still prove the camera is up and speaking RTSP; only server errors count as down.
    return Probe(status < 500, _ms(started), {"rtsp_status": status})


async def camera_probe(client: httpx.AsyncClient, url: str, timeout_s: float) -> Probe:
    """Probe a camera at its rtsp:// stream or http(s):// snapshot URL."""
    if urlsplit(url).scheme.lower() == "rtsp":
        return await rtsp_probe(url, timeout_s)
    return await http_probe(client, url, timeout_s)


async def fetch_json(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], timeout_s: float, max_bytes: int
) -> object:
    """GET a JSON document, at most `max_bytes`, within `timeout_s`; raise FetchError saying why not."""
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream("GET", url, headers=headers, timeout=timeout_s) as response:
                if response.status_code >= 300:
                    raise FetchError(f"HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"response larger than {max_bytes} bytes")
    except (httpx.HTTPError, OSError) as exc:
        raise FetchError(type(exc).__name__) from None
    except TimeoutError:
        raise FetchError("timeout") from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise FetchError("response is not JSON") from None
