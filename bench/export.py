"""Benchmark exports at scale while watching the server's memory: peak RSS must not grow with the row count.

Usage: .venv/bin/python bench/export.py [--scale 500] [--formats gpkg,csv,geojson,kml,xlsx,shp]
(scale 500 is about 1,000,000 assets in the `kendali_bench` database.) The GeoPackage run exports every
asset layer into one file (about 1,000,000 features); the other formats export `taxpayers` (750,000).
Peak RSS is read from /proc/<pid>/status (VmHWM) after resetting it through /proc/<pid>/clear_refs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx
from _setup import admin_key, bench_database, running_server

ASSET_LAYERS = "cctv,traffic_junctions,dumping_points,das_stations,city_apps,taxpayers"


def memory_kib(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM (peak) of a process in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def reset_peak(pid: int) -> None:
    """Reset the process's peak RSS to its current RSS (Linux clear_refs, value 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def run(http: httpx.Client, base: str, pid: int, fmt: str) -> tuple[int, float, dict[str, int]]:
    """Download one export, streaming to nowhere; return (bytes, seconds, memory after)."""
    path, params = (
        ("/export", {"collections": ASSET_LAYERS, "f": fmt})
        if fmt == "gpkg"
        else ("/collections/taxpayers/export", {"f": fmt})
    )
    reset_peak(pid)
    started = time.perf_counter()
    size = 0
    with http.stream("GET", base + path, params=params) as response:
        response.raise_for_status()
        for part in response.iter_bytes(1 << 20):
            size += len(part)
    return size, time.perf_counter() - started, memory_kib(pid)


def main() -> None:
    """Run the exports and print a table of size, time and the server's memory."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--formats", default="gpkg,csv,geojson,kml,shp,xlsx")
    args = parser.parse_args()
    url, engine = bench_database(args.scale)
    key = admin_key(engine)
    print(f"{'export':10} {'features':>10} {'MiB':>8} {'s':>7} {'rss MiB':>8} {'peak MiB':>9}")
    with (
        running_server(url, KENDALI_DB_STATEMENT_TIMEOUT_MS="60000") as (base, pid),
        httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=1800) as http,
    ):
        idle = memory_kib(pid)["VmRSS"] / 1024
        print(f"{'idle':10} {'':>10} {'':>8} {'':>7} {idle:8.0f} {'':>9}")
        for fmt in args.formats.split(","):
            features = "1,005,025" if fmt == "gpkg" else "750,000"
            size, seconds, mem = run(http, base, pid, fmt)
            print(
                f"{fmt:10} {features:>10} {size / 2**20:8.0f} {seconds:7.1f} "
                f"{mem['VmRSS'] / 1024:8.0f} {mem['VmHWM'] / 1024:9.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
