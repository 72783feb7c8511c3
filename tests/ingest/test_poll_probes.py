"""Probes: RTSP OPTIONS over TCP and HTTP health checks against local servers, bounded by their timeouts."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ingest.poll_probes import FetchError, Probe, camera_probe, fetch_json, http_probe, rtsp_probe
from tests.ingest._poll_servers import FakeRtsp, LocalHttp, closed_port


def probe_http(url: str, timeout_s: float = 2.0) -> Probe:
    async def go() -> Probe:
        async with httpx.AsyncClient(trust_env=False) as client:
            return await http_probe(client, url, timeout_s)

    return asyncio.run(go())


def test_rtsp_options_exchange_reaches_a_camera() -> None:
    with FakeRtsp().running() as server:
        probe = asyncio.run(rtsp_probe(f"rtsp://admin:secret@127.0.0.1:{server.port}/live/main?ch=1", 2.0))
    assert (probe.ok, probe.details) == (True, {"rtsp_status": 200})
    line, cseq, *_ = server.requests[0].split("\n")
    assert line == f"OPTIONS rtsp://127.0.0.1:{server.port}/live/main?ch=1 RTSP/1.0"
    assert cseq == "CSeq: 1"


@pytest.mark.parametrize(
    ("reply", "ok", "details"),
    [
        (b"RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n\r\n", True, {"rtsp_status": 401}),
        (b"RTSP/1.0 503 Service Unavailable\r\nCSeq: 1\r\n\r\n", False, {"rtsp_status": 503}),
        (b"HTTP/1.1 200 OK\r\n\r\n", False, {"error": "not an RTSP answer"}),
        (b"", False, {"error": "not an RTSP answer"}),
    ],
)
def test_rtsp_answer_decides_online(reply: bytes, ok: bool, details: dict[str, object]) -> None:
    with FakeRtsp(reply).running() as server:
        probe = asyncio.run(rtsp_probe(f"rtsp://127.0.0.1:{server.port}/cam", 2.0))
    assert (probe.ok, probe.details) == (ok, details)


def test_rtsp_server_that_never_answers_times_out() -> None:
    with FakeRtsp(reply=None).running() as server:
        probe = asyncio.run(rtsp_probe(f"rtsp://127.0.0.1:{server.port}/cam", 0.3))
    assert (probe.ok, probe.details) == (False, {"error": "timeout"})


def test_rtsp_closed_port_is_offline() -> None:
    probe = asyncio.run(rtsp_probe(f"rtsp://127.0.0.1:{closed_port()}/cam", 2.0))
    assert (probe.ok, probe.details) == (False, {"error": "ConnectionRefusedError"})


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "rtsp:///nohost", "gopher://x/"])
def test_only_http_https_and_rtsp_are_contacted(url: str) -> None:
    async def go() -> Probe:
        async with httpx.AsyncClient(trust_env=False) as client:
            return await camera_probe(client, url, 1.0)

    assert asyncio.run(go()).ok is False


@pytest.mark.parametrize(
    ("path", "ok", "status"), [("/ok", True, 200), ("/fail", False, 500), ("/nope", False, 404)]
)
def test_http_probe_reads_the_status(path: str, ok: bool, status: int) -> None:
    with LocalHttp().running() as server:
        probe = probe_http(server.url + path)
    assert (probe.ok, probe.details) == (ok, {"http_status": status})
    assert probe.elapsed_ms is not None and probe.elapsed_ms >= 0


def test_http_probe_gives_up_at_its_timeout() -> None:
    with LocalHttp().running() as server:
        probe = probe_http(server.url + "/slow", timeout_s=0.3)
    assert (probe.ok, probe.details) == (False, {"error": "timeout"})


def test_fetch_json_refuses_a_body_past_its_limit() -> None:
    async def go(url: str) -> object:
        async with httpx.AsyncClient(trust_env=False) as client:
            return await fetch_json(client, url, {}, 2.0, max_bytes=1024)

    with LocalHttp().running() as server:
        server.feed = {"data": "x" * 5000}
        with pytest.raises(FetchError, match="larger than 1024 bytes"):
            asyncio.run(go(server.url + "/feed"))
