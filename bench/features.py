"""Benchmark the OGC API – Features items path at scale, next to the same SQL run straight in PostGIS.

Usage: .venv/bin/python bench/features.py [--scale 500] [--requests 200] [--concurrency 4]
(scale 500 is about 1,000,000 assets; the first run loads them into the `kendali_bench` database.)
"""

from __future__ import annotations

import argparse
import random

import httpx
from _setup import admin_key, bench_database, measure, running_server

from layers.access.policy import field_view, principal_for
from layers.catalog import LAYERS
from layers.features.cql2 import filter_expression
from layers.features.pages import FeatureQuery, count_matched, fetch_page, layer_queryables

CITY = (128.10, -3.78, 128.30, -3.62)
ADMIN = principal_for("bench", ["admin"], kind="key")


def random_bbox(rng: random.Random, size_deg: float) -> tuple[float, float, float, float]:
    """Return a square bbox of `size_deg` somewhere over the city."""
    x = rng.uniform(CITY[0], CITY[2] - size_deg)
    y = rng.uniform(CITY[1], CITY[3] - size_deg)
    return (x, y, x + size_deg, y + size_deg)


def workloads(rng: random.Random) -> dict[str, tuple[str, dict[str, str]]]:
    """Return named requests: layer and query parameters (a fresh random bbox each call)."""
    return {
        "bbox page 100 (taxpayers)": ("taxpayers", {"limit": "100"}),
        "bbox page 1000 (taxpayers)": ("taxpayers", {"limit": "1000"}),
        "cql2 filter (dumping_points)": (
            "dumping_points",
            {"limit": "100", "filter": "status IN ('full','overflow') AND capacity_m3 > 6"},
        ),
    }


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    url, engine = bench_database(args.scale)
    key = admin_key(engine)
    rng = random.Random(7)
    print(f"{'workload':32} {'path':6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    with (
        running_server(url) as (base, _),
        httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
    ):
        for name, (layer_id, params) in workloads(rng).items():
            boxes = [random_bbox(rng, 0.02) for _ in range(args.requests)]

            def over_http(
                i: int,
                layer_id: str = layer_id,
                params: dict[str, str] = params,
                boxes: list[tuple[float, float, float, float]] = boxes,
            ) -> None:
                query = params | {"bbox": ",".join(f"{v:.5f}" for v in boxes[i])}
                response = http.get(f"{base}/collections/{layer_id}/items", params=query)
                response.raise_for_status()

            def in_postgis(
                i: int,
                layer_id: str = layer_id,
                params: dict[str, str] = params,
                boxes: list[tuple[float, float, float, float]] = boxes,
            ) -> None:
                layer = LAYERS[layer_id]
                view = field_view(ADMIN, layer)
                filters = ()
                if "filter" in params:
                    filters = (
                        filter_expression(params["filter"], "cql2-text", layer_queryables(layer, view)),
                    )
                q = FeatureQuery(limit=int(params["limit"]), bbox=boxes[i], filters=filters)
                with engine.connect() as conn:
                    fetch_page(conn, layer, view, q)
                    count_matched(conn, layer, view, q)

            http_figures = measure(over_http, args.requests, args.concurrency)
            sql_figures = measure(in_postgis, args.requests, args.concurrency)
            for path, fig in (("http", http_figures), ("sql", sql_figures)):
                print(
                    f"{name:32} {path:6} {fig['rate']:8.1f} {fig['p50']:8.1f} {fig['p99']:8.1f}", flush=True
                )


if __name__ == "__main__":
    main()
