"""Ingest throughput: reports/s through HTTP batches of 1,000 and through MQTT, next to a plain COPY.

Run: .venv/bin/python -m bench.ingest_rates [--reports N] [--clients C]
Uses its own bench database (kendali_bench_ingest) on the local cluster, a Mosquitto of its own on a free
port, the HTTP server and the MQTT subscriber as processes; everything is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from psycopg import sql
from sqlalchemy import Engine, text

from bench._setup import ROOT, admin_key, bench_database, running_server
from ingest.settings import IngestSettings

LIVE = ("cctv", "taxpayers", "dumping_points", "das_stations", "traffic_junctions", "city_apps")
FIRST_STATUS = {
    "cctv": "online",
    "taxpayers": "online",
    "dumping_points": "half",
    "das_stations": "normal",
    "traffic_junctions": "lancar",
    "city_apps": "up",
}
Asset = tuple[int, str, str]  # id, layer, external id
_COPY = sql.SQL("COPY {} (asset_id, status, unit, observed_at, source, details) FROM STDIN")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.05)


def _assets(engine: Engine) -> list[Asset]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, layer_id, external_id FROM assets WHERE layer_id = ANY(:l) ORDER BY id"),
            {"l": list(LIVE)},
        )
        return [(int(r.id), str(r.layer_id), str(r.external_id)) for r in rows]


def _stored(engine: Engine, since: datetime, until: datetime) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM observations WHERE observed_at >= :a AND observed_at < :b"),
                {"a": since, "b": until},
            ).scalar_one()
        )


@contextmanager
def _process(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ | env, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def _broker(tmp: Path) -> Iterator[int]:
    port = _free_port()
    conf = tmp / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "max_queued_messages 1000000"]
    conf.write_text("\n".join(lines + (["user root"] if os.geteuid() == 0 else [])) + "\n", encoding="utf-8")
    with _process(["mosquitto", "-c", str(conf)], {}, tmp / "mosquitto.log"):

        def up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                return False

        _wait(up, 10)
        yield port


def bench_http(base: str, key: str, assets: list[Asset], t0: datetime, n: int, clients: int) -> float:
    """Push n reports in batches of 1,000 from `clients` threads; return reports/s."""

    def batch(b: int) -> None:
        reports = [
            {
                "asset_id": assets[i % len(assets)][0],
                "status": FIRST_STATUS[assets[i % len(assets)][1]],
                "observed_at": (t0 + timedelta(microseconds=i)).isoformat(),
            }
            for i in range(b * 1000, min(n, (b + 1) * 1000))
        ]
        response = http.post("/ingest/status", json={"reports": reports})
        response.raise_for_status()
        if response.json()["accepted"] != len(reports):
            raise RuntimeError(f"not all accepted: {response.text[:300]}")

    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(batch, range((n + 999) // 1000)))
        return n / (time.perf_counter() - started)


def bench_mqtt(port: int, engine: Engine, assets: list[Asset], t0: datetime, n: int) -> float:
    """Publish n QoS 1 messages as fast as the broker takes them; return reports/s until all are stored."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher", protocol=paho.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.perf_counter()
    for i in range(n):
        _, layer, external_id = assets[i % len(assets)]
        at = (t0 + timedelta(microseconds=i)).isoformat()
        client.publish(
            f"kendali/{layer}/{external_id}/status",
            json.dumps({"status": FIRST_STATUS[layer], "observed_at": at}),
            qos=1,
        )
    _wait(lambda: _stored(engine, t0, t0 + timedelta(microseconds=n)) >= n, 600)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return n / elapsed


def bench_copy(engine: Engine, assets: list[Asset], t0: datetime, n: int) -> float:
    """COPY the same n rows into observations, and the newest per asset into asset_status; return rows/s."""
    units = {
        "dumping_points": "%",
        "das_stations": "cm",
        "traffic_junctions": "veh/15min",
        "city_apps": "ms",
        "taxpayers": "IDR",
    }
    history, latest = io.StringIO(), {}
    for i in range(n):
        asset_id, layer, _ = assets[i % len(assets)]
        at = (t0 + timedelta(microseconds=i)).isoformat()
        row = (
            f"{asset_id}\t{FIRST_STATUS[layer]}\t{units.get(layer, chr(92) + 'N')}\t{at}\tbench-copy\t{{}}\n"
        )
        history.write(row)
        latest[asset_id] = row
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(
                "SELECT kendali_ensure_observation_partitions(%s, %s)", (t0, t0 + timedelta(microseconds=n))
            )
            with cur.copy(_COPY.format(sql.Identifier("observations"))) as copy:
                copy.write(history.getvalue())
            cur.execute("DELETE FROM asset_status WHERE asset_id = ANY(%s)", (list(latest),))
            with cur.copy(_COPY.format(sql.Identifier("asset_status"))) as copy:
                copy.write("".join(latest.values()))
        raw.commit()
        return n / (time.perf_counter() - started)
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=20_000, help="reports per path (max 200,000)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (max 16)")
    args = parser.parse_args()
    n, clients = min(max(args.reports, 1000), 200_000), min(max(args.clients, 1), 16)
    url, engine = bench_database(1, "kendali_bench_ingest")
    key, assets = admin_key(engine), _assets(engine)
    base_t = datetime.now(UTC) - timedelta(days=1)  # unique per run: each phase spans under a second
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        with running_server(url) as (base, _):
            one = bench_http(base, key, assets, base_t, n, 1)
            many = bench_http(base, key, assets, base_t + timedelta(seconds=1), n, clients)
        with _broker(tmp) as port:
            env = {
                "DATABASE_URL": url,
                "KENDALI_MQTT__PORT": str(port),
                "KENDALI_MQTT__API_KEY": key,
                "KENDALI_MQTT__CLIENT_ID": "bench",
            }
            with _process([sys.executable, "-m", "ingest.mqtt"], env, tmp / "subscriber.log"):
                log = tmp / "subscriber.log"
                _wait(lambda: "subscribed to" in log.read_text(encoding="utf-8", errors="replace"), 60)
                mqtt = bench_mqtt(port, engine, assets, base_t + timedelta(seconds=2), n)
    copy = bench_copy(engine, assets, base_t + timedelta(seconds=3), n)
    print(f"ingest of {n:,} status reports over {len(assets):,} live assets (reports/s):")
    print(f"  HTTP, batches of 1,000, 1 client          {one:10,.0f}")
    print(f"  HTTP, batches of 1,000, {clients} clients         {many:10,.0f}")
    batch = IngestSettings().mqtt.batch_size
    print(f"  MQTT, QoS 1, 1 subscriber, batch {batch:<6}   {mqtt:10,.0f}")
    print(f"  plain COPY into observations/asset_status {copy:10,.0f}")
    engine.dispose()


if __name__ == "__main__":
    main()
