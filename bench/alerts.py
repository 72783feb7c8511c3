"""Alert evaluation cost: a full evaluation (first and steady state) and the after-write hook, at a scale.

Usage: .venv/bin/python -m bench.alerts [SCALE]   (default 20: 3,000 cameras, 30,000 taxpayers)
Everything runs in transactions that are rolled back, in a bench database of its own.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench._setup import bench_database
from layers.access.policy import principal_for
from layers.alerts import evaluate as alerts
from layers.live.status import StatusReport, write_reports


def main() -> None:
    scale = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    _, engine = bench_database(scale, name=f"kendali_bench_alerts_{scale}")
    now = datetime.now(UTC)
    with engine.connect() as conn, conn.begin() as tx:
        for label, at in (("first full evaluation", now), ("steady state", now + timedelta(seconds=5))):
            start = time.perf_counter()
            summary = alerts.evaluate(conn, at)
            took = time.perf_counter() - start
            print(f"{label}: {took * 1000:.0f} ms, {summary.rules} rules, {summary.opened} opened")
        later = now + timedelta(days=2)
        start = time.perf_counter()
        summary = alerts.evaluate(conn, later)
        print(
            f"two days on (every silent asset alerts): {(time.perf_counter() - start) * 1000:.0f} ms, "
            f"{summary.opened} opened, {summary.resolved} resolved"
        )
        tx.rollback()
    with engine.connect() as conn, conn.begin() as tx:
        ids = conn.execute(
            text("SELECT id FROM assets WHERE layer_id = 'cctv' ORDER BY id LIMIT 1000")
        ).scalars()
        operator = principal_for("key:bench", ["kominfo-operator"], kind="key")
        at = datetime.now(UTC).replace(microsecond=0)
        reports = [StatusReport("offline", at, "bench", asset_id=i) for i in ids]
        results = write_reports(conn, operator, reports)
        start = time.perf_counter()
        summary = alerts.evaluate_after_write(conn, results)
        took = time.perf_counter() - start
        print(f"after-write hook, {len(reports)} camera reports: {took * 1000:.0f} ms, {summary.rules} rules")
        tx.rollback()
    engine.dispose()


if __name__ == "__main__":
    main()
