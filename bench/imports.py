"""Import at the size people have: 100,000 dumping points in a GeoPackage, one of them bad.

Run: .venv/bin/python -m bench.imports [--rows N] [--no-http] [--no-library] [--profile] [--database D]
Uses its own bench database (kendali_bench_imports) on the local cluster. Prints, for the library call and
over HTTP: the dry run of the file with one bad point, the refused import of it, the committed import of the
same file without the bad point, its re-import (all unchanged), and how long a read and a small import into
another layer take while a big import runs. `--profile` prints where the dry run spends its time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import shapely
from sqlalchemy import Engine, text

from bench._setup import admin_key, bench_database, running_server
from ingest.importer import ImportOptions, ImportReport, ImportSettings, import_path
from layers.access.policy import principal_for

LAYER = "dumping_points"
PREFIX = "bench-imp-"
ADMIN = principal_for("user:bench", ["admin"], kind="user")


def write_points(path: Path, rows: int, bad_row: int | None, seed: int = 7) -> Path:
    """Write `rows` dumping points around central Ambon as a GeoPackage; `bad_row` (1-based) has lat 95."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(128.15, 128.25, rows)
    lat = rng.uniform(-3.72, -3.66, rows)
    if bad_row is not None:
        lat[bad_row - 1] = 95.0
    frame = gpd.GeoDataFrame(
        {
            "name": [f"TPS bench {i}" for i in range(rows)],
            "external_id": [f"{PREFIX}{i}" for i in range(rows)],
            "tps_type": rng.choice(["tps", "tps3r", "kontainer", "depo"], rows),
            "capacity_m3": np.round(rng.uniform(1, 50, rows), 1),
        },
        geometry=shapely.points(lon, lat),
        crs=4326,
    )
    frame.to_file(path, driver="GPKG", SPATIAL_INDEX="NO")  # 8.6 MB for 100,000 rows, under the upload limit
    return path


def clear(engine: Engine) -> None:
    """Remove what earlier runs imported."""
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM assets WHERE layer_id = :layer AND external_id LIKE :p"),
            {"layer": LAYER, "p": PREFIX + "%"},
        )
        conn.execute(
            text("DELETE FROM assets WHERE layer_id = 'traffic_junctions' AND external_id LIKE :p"),
            {"p": "bench-side-%"},
        )


def timed(label: str, call: Callable[[], Any]) -> Any:
    """Run `call`, print how long it took, return its result."""
    t0 = time.perf_counter()
    result = call()
    print(f"  {label:<42} {time.perf_counter() - t0:8.2f} s", flush=True)
    return result


def library(engine: Engine, bad: Path, good: Path, profile: bool) -> None:
    """Time the library function (ingest.importer.import_path), one transaction per run."""
    settings = ImportSettings(max_upload_bytes=64 * 1024 * 1024)

    def run(path: Path, **options: Any) -> ImportReport:
        with engine.begin() as conn:
            return import_path(conn, ADMIN, LAYER, path, ImportOptions(**options), settings)

    print("library (ingest.importer.import_path):")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        report = run(bad, dry_run=True)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        print(report.summary("en"))
    report = timed("dry run, one bad point", lambda: run(bad, dry_run=True))
    print(f"    {report.summary('en')}")
    report = timed("import, one bad point (refused)", lambda: run(bad))
    print(f"    {report.summary('en')}")
    report = timed("import, all good (committed)", lambda: run(good))
    print(f"    {report.summary('en')}")
    report = timed("re-import, same file (unchanged)", lambda: run(good))
    print(f"    {report.summary('en')}")


def _side_import(base: str, headers: dict[str, str], folder: Path) -> httpx.Response:
    frame = gpd.GeoDataFrame(
        {
            "name": ["Simpang bench"],
            "external_id": ["bench-side-1"],
            "junction_code": ["BENCH-1"],
            "signal_type": ["none"],
            "legs": [4],
        },
        geometry=[shapely.Point(128.18, -3.70)],
        crs=4326,
    )
    path = folder / "side.geojson"
    path.write_text(frame.to_json())
    files = {"file": (path.name, path.read_bytes())}
    return httpx.post(
        f"{base}/collections/traffic_junctions/import?dry_run=true&background=false",
        files=files,
        headers=headers,
        timeout=900,
    )


def _post(base: str, headers: dict[str, str], path: Path, query: str) -> dict[str, Any]:
    """POST an import; follow a background job to its end; return the final report (or problem body)."""
    files = {"file": (path.name, path.read_bytes())}
    url = f"{base}/collections/{LAYER}/import?lang=en&{query}"
    response = httpx.post(url, files=files, headers=headers, timeout=900)
    if response.status_code != 202:
        body: dict[str, Any] = response.json()
        return body.get("report", body)
    job_url = base + response.headers["location"]
    while True:
        job = httpx.get(job_url, headers=headers, timeout=30).json()
        if job["state"] not in ("queued", "running"):
            return dict(job.get("report") or job)
        time.sleep(0.5)


def _summary(report: dict[str, Any]) -> str:
    keys = ("rows", "inserted", "updated", "unchanged", "rejected", "committed")
    return ", ".join(f"{k} {report.get(k)}" for k in keys)


def over_http(engine: Engine, url: str, bad: Path, good: Path, folder: Path, probe_only: bool) -> None:
    """Time the same imports through a running `kendali serve`, and what other callers see meanwhile."""
    key = admin_key(engine)
    headers = {"Authorization": f"Bearer {key}"}
    print("HTTP (POST /collections/dumping_points/import):")
    limits = {"KENDALI_IMPORT_MAX_UPLOAD_BYTES": str(32 * 2**20), "KENDALI_MAX_BODY_BYTES": str(32 * 2**20)}
    with running_server(url, KENDALI_ALERT_CHECK_S="3600", **limits) as (base, _pid):
        runs = (
            ("dry run, one bad point", bad, "dry_run=true"),
            ("import, one bad point (refused)", bad, ""),
            ("import, all good (committed)", good, ""),
            ("re-import, same file (unchanged)", good, ""),
        )
        for label, path, query in () if probe_only else runs:
            report = timed(label, lambda p=path, q=query: _post(base, headers, p, q))  # type: ignore[misc]
            print(f"    {_summary(report)}")
        clear(engine)  # the probe's dry run inserts every row again
        probe(base, headers, bad, folder)


def probe(base: str, headers: dict[str, str], bad: Path, folder: Path) -> None:
    """While a big dry run runs, time a read of another layer and a small import into another layer."""
    done = threading.Event()
    big = threading.Thread(
        target=lambda: (_post(base, headers, bad, "dry_run=true"), done.set()), daemon=True
    )
    big.start()
    time.sleep(2.0)  # the upload is in and the import is under way
    reads: list[float] = []
    while not done.is_set() and len(reads) < 20:
        t0 = time.perf_counter()
        httpx.get(f"{base}/collections/traffic_junctions/items?limit=10", headers=headers, timeout=900)
        reads.append(time.perf_counter() - t0)
        time.sleep(0.2)
    t0 = time.perf_counter()
    side = _side_import(base, headers, folder)
    side_s = time.perf_counter() - t0
    small = write_points(folder / "small.gpkg", 10, bad_row=None, seed=99)
    t0 = time.perf_counter()
    files = {"file": (small.name, small.read_bytes())}
    same = httpx.post(
        f"{base}/collections/{LAYER}/import?dry_run=true&background=true",
        files=files,
        headers=headers,
        timeout=900,
    )
    same_s = time.perf_counter() - t0
    big.join(timeout=900)
    worst = max(reads) if reads else float("nan")
    print(f"  while a big dry run runs: {len(reads)} reads of another layer, slowest {worst:.2f} s")
    print(f"  small import into another layer: HTTP {side.status_code} in {side_s:.2f} s")
    print(f"  10-row import into the same layer, same ids: HTTP {same.status_code} in {same_s:.2f} s")


def main() -> None:
    """Build the files, then time the imports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-library", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--database", default="kendali_bench_imports")
    parser.add_argument("--probe-only", action="store_true", help="over HTTP, only the other callers' view")
    args = parser.parse_args()
    url, engine = bench_database(1, args.database)
    clear(engine)
    with tempfile.TemporaryDirectory(prefix="kendali-bench-") as tmp:
        folder = Path(tmp)
        bad = write_points(folder / "bad.gpkg", args.rows, bad_row=args.rows // 2)
        good = write_points(folder / "good.gpkg", args.rows, bad_row=None)
        size = bad.stat().st_size / 1024 / 1024
        print(f"{args.rows} points, GeoPackage {size:.1f} MB, bad point at row {args.rows // 2}")
        try:
            if not args.no_library:
                library(engine, bad, good, args.profile)
                clear(engine)
            if not args.no_http:
                over_http(engine, url, bad, good, folder, args.probe_only)
        finally:
            clear(engine)
            engine.dispose()


if __name__ == "__main__":
    main()
