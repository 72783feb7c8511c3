"""Local servers on 127.0.0.1 for poller tests: an HTTP server with healthy, slow, failing and JSON paths,
and a tiny fake RTSP server that answers OPTIONS."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLOW_HOLD_S = 10.0  # a slow request is held at most this long (released early when the server stops)


class LocalHttp:
    """Paths: /ok (200), /fail (500), /slow (held until release), /feed (the JSON in `feed`)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.feed: Any = {}
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.counts[self.path] += 1
                if self.path == "/slow":
                    outer.release.wait(SLOW_HOLD_S)
                status = (
                    500 if self.path == "/fail" else 200 if self.path in ("/ok", "/slow", "/feed") else 404
                )
                body = json.dumps(outer.feed if self.path == "/feed" else {"path": self.path}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the poller gave up (timeout) and closed the connection

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[LocalHttp]:
        """Serve in a thread until the block ends."""
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)


class FakeRtsp:
    """Answers each RTSP request with `reply` and keeps the request texts; `reply=None` never answers."""

    def __init__(
        self, reply: bytes | None = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"
    ):
        self.requests: list[str] = []
        self.reply = reply
        self.quiet = threading.Event()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                lines = []
                while (line := self.rfile.readline(4096)) not in (b"\r\n", b""):
                    lines.append(line.decode("latin-1").rstrip("\r\n"))
                outer.requests.append("\n".join(lines))
                if outer.reply is None:
                    outer.quiet.wait(SLOW_HOLD_S)
                else:
                    self.wfile.write(outer.reply)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])

    @contextmanager
    def running(self) -> Iterator[FakeRtsp]:
        """Serve in a thread until the block ends."""
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.quiet.set()
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)


def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
