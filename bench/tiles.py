"""Benchmark vector tiles at scale: a z10–17 mix over Ambon, cold and warm, next to the same SQL in PostGIS.

Usage: .venv/bin/python bench/tiles.py [--scale 500] [--requests 300] [--concurrency 4]
(scale 500 is about 1,000,000 assets; the first run loads them into the `kendali_bench` database.)
"Cold" is kendali's tile cache empty (PostgreSQL's buffers are whatever earlier passes left); "warm" asks
for the same tiles again within the live-layer cache lifetime; "sql" runs the same ST_AsMVT statements
straight on a connection, without HTTP or cache.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import Engine, text

from geo.tiles import TMS, TileKey
from layers.access.policy import field_view, principal_for
from layers.catalog import LAYERS
from layers.tiles.render import build_layer_tile

ZOOM_WEIGHTS = {10: 1, 11: 1, 12: 2, 13: 3, 14: 4, 15: 4, 16: 3, 17: 2}
WORKLOADS = {
    "taxpayers (750k points)": "taxpayers",
    "operator map (6 layers)": "districts,rivers,cctv,traffic_junctions,dumping_points,das_stations",
}
ADMIN = principal_for("bench", ["admin"], kind="key")


def tile_mix(engine: Engine, rng: random.Random, count: int) -> list[TileKey]:
    """Return distinct tiles at z10–17 centred where the city's assets are, weighted to mid zooms."""
    with engine.connect() as conn:
        spots = conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM assets TABLESAMPLE SYSTEM (1) "
                "WHERE layer_id IN ('cctv', 'taxpayers', 'dumping_points', 'traffic_junctions')"
            )
        ).all()
    zooms, weights = list(ZOOM_WEIGHTS), list(ZOOM_WEIGHTS.values())
    keys: dict[TileKey, None] = {}
    for _ in range(count * 20):
        lon, lat = rng.choice(spots)
        t = TMS.tile(lon, lat, rng.choices(zooms, weights)[0])
        keys[TileKey(t.z, t.x, t.y)] = None
        if len(keys) == count:
            break
    return list(keys)


def timed(
    call: Callable[[TileKey], int], keys: Sequence[TileKey], concurrency: int
) -> list[tuple[float, int]]:
    """Run `call` on every key; return (milliseconds, tile bytes) for each."""

    def one(key: TileKey) -> tuple[float, int]:
        t0 = time.perf_counter()
        size = call(key)
        return (time.perf_counter() - t0) * 1000, size

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, keys))


def summary(name: str, path: str, runs: list[tuple[float, int]], seconds: float) -> str:
    latencies = sorted(ms for ms, _ in runs)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        f"{name:26} {path:5} {len(runs) / seconds:8.1f} {statistics.median(latencies):8.1f} {p99:8.1f}"
        f" {max(size for _, size in runs) / 1024:9.1f}"
    )


def run_workload(
    http: httpx.Client, base: str, engine: Engine, layer_ids: str, keys: Sequence[TileKey], concurrency: int
) -> tuple[dict[str, list[tuple[float, int]]], dict[str, float]]:
    """Fetch tiles batch by batch: straight SQL, HTTP cold, HTTP warm; return the runs and wall times."""
    parts = [(LAYERS[i], field_view(ADMIN, LAYERS[i])) for i in layer_ids.split(",")]

    def over_http(key: TileKey) -> int:
        response = http.get(f"{base}/tiles/{layer_ids}/{key.z}/{key.x}/{key.y}.mvt")
        response.raise_for_status()
        return len(response.content)

    def in_postgis(key: TileKey) -> int:
        with engine.connect() as conn:
            return sum(len(build_layer_tile(conn, layer, view, key)) for layer, view in parts)

    runs: dict[str, list[tuple[float, int]]] = {"sql": [], "cold": [], "warm": []}
    walls = dict.fromkeys(runs, 0.0)
    batch_size = 2 * concurrency  # small, so the warm pass comes within the 5 s life of live tiles
    for start in range(0, len(keys), batch_size):
        batch = keys[start : start + batch_size]
        for name, call in (("sql", in_postgis), ("cold", over_http), ("warm", over_http)):
            t0 = time.perf_counter()
            runs[name] += timed(call, batch, concurrency)
            walls[name] += time.perf_counter() - t0
    return runs, walls


def largest_by_zoom(keys: Sequence[TileKey], runs: list[tuple[float, int]]) -> str:
    """Return the largest tile (KB) and slowest time (ms) at each zoom."""
    out = []
    for z in sorted(ZOOM_WEIGHTS):
        at_z = [run for key, run in zip(keys, runs, strict=True) if key.z == z]
        if at_z:
            out.append(f"z{z}: {max(s for _, s in at_z) / 1024:.0f} KB/{max(ms for ms, _ in at_z):.0f} ms")
    return "  ".join(out)


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--requests", type=int, default=300, help="distinct tiles per workload")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    from _setup import (  # only when run as a script, with bench/ on sys.path
        admin_key,
        bench_database,
        running_server,
    )

    url, engine = bench_database(args.scale)
    key = admin_key(engine)
    keys = tile_mix(engine, random.Random(7), args.requests)
    mix = ", ".join(f"z{z}: {sum(k.z == z for k in keys)}" for z in sorted(ZOOM_WEIGHTS))
    print(f"{len(keys)} distinct tiles ({mix}), {args.concurrency} concurrent clients")
    print(f"{'workload':26} {'path':5} {'tiles/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max KB':>9}")
    with (
        running_server(url) as (base, _),
        httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120) as http,
    ):
        for name, layer_ids in WORKLOADS.items():
            runs, walls = run_workload(http, base, engine, layer_ids, keys, args.concurrency)
            for path in ("cold", "warm", "sql"):
                print(summary(name, path, runs[path], walls[path]), flush=True)
            print(f"  largest (cold): {largest_by_zoom(keys, runs['cold'])}", flush=True)


if __name__ == "__main__":
    main()
