"""Shared set-up for benchmarks: a bench database at a given scale and a running server."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine, text

from api.cli import cluster
from basemaps.demo_rasters import write_demo_rasters
from layers import migrate
from layers.access.auth import create_key
from layers.db import create_db_engine
from layers.demo.generate import layer_counts
from layers.demo.loader import load_demo
from layers.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parent.parent


def bench_database(scale: int, name: str = "kendali_bench") -> tuple[str, Engine]:
    """Return the URL and engine of a bench database holding the demo city at `scale` (loaded once)."""
    settings = DatabaseSettings()
    admin = cluster.LocalCluster(ROOT / settings.data_dir, settings.pg_bindir).up("postgres")
    cluster.create_database(admin, name)
    url = admin.rpartition("/")[0] + f"/{name}"
    engine = create_db_engine(DatabaseSettings(url=url, statement_timeout_ms=600_000))  # type: ignore[arg-type]
    migrate.upgrade(url, engine)
    expected = sum(layer_counts(scale).values())
    with engine.connect() as conn:
        have = conn.execute(
            text(
                "SELECT count(*) FROM assets WHERE layer_id IN "
                "('cctv','taxpayers','dumping_points','das_stations','traffic_junctions','city_apps')"
            )
        ).scalar_one()
    if have != expected:
        print(f"loading the demo city at scale {scale} ({expected} assets) ...", flush=True)
        report = load_demo(
            engine,
            scale=scale,
            seed=42,
            force=True,
            data_dir=ROOT / ".kendali" / "bench",
            raster_writer=write_demo_rasters,
        )
        print(report.summary(), flush=True)
    return url, engine


def admin_key(engine: Engine) -> str:
    """Create an API key with the admin role for the benchmark and return it."""
    with engine.begin() as conn:
        return create_key(conn, "bench", ["admin"]).secret


@contextmanager
def running_server(url: str, **extra_env: str) -> Iterator[tuple[str, int]]:
    """Start `kendali serve` against `url` on a free port; yield its base URL and process id."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = (
        os.environ | {"DATABASE_URL": url, "KENDALI_PORT": str(port), "KENDALI_DB_POOL_SIZE": "8"} | extra_env
    )
    exe = Path(sys.executable).with_name("kendali")
    proc = subprocess.Popen(
        [str(exe), "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(call: Callable[[int], object], count: int, concurrency: int) -> dict[str, float]:
    """Run `call(i)` count times on `concurrency` threads; return rate and latency percentiles (ms)."""

    def timed(i: int) -> float:
        t0 = time.perf_counter()
        call(i)
        return (time.perf_counter() - t0) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(timed, range(count)))
    elapsed = time.perf_counter() - started
    return {
        "rate": count / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }
