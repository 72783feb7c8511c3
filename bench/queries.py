"""Benchmark every query layer at scale: the whole HTTP path next to its bare SQL in PostGIS.

Usage: .venv/bin/python bench/queries.py [--scale 500] [--only LABEL-PART]
(scale 500 is about 1,000,000 assets; the first run loads them into the `kendali_bench` database.)

"http" is GET /collections/{id}/items?limit=1000 (parameters parsed, answer built, a page of 1,000 and
the number matched as GeoJSON). "sql" builds the same answer in process and counts its rows straight
in PostGIS: the query's own cost, without paging, JSON or HTTP. Requests run one at a time: these
are the heavy questions of an operator, not a tile storm.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime

import httpx
from _setup import admin_key, bench_database, measure, running_server
from sqlalchemy import Engine, func, select, text

from layers.access.policy import principal_for
from layers.queries.catalog import QUERIES
from layers.queries.serve import run_query
from layers.queries.spec import QueryContext

CITY = (128.12, -3.75, 128.28, -3.64)
ADMIN = principal_for("bench", ["admin"], kind="key")


def _point(rng: random.Random) -> str:
    return f"{rng.uniform(CITY[0], CITY[2]):.5f},{rng.uniform(CITY[1], CITY[3]):.5f}"


def _box(rng: random.Random, size: float) -> str:
    x, y = rng.uniform(CITY[0], CITY[2] - size), rng.uniform(CITY[1], CITY[3] - size)
    return f"POLYGON(({x} {y},{x + size} {y},{x + size} {y + size},{x} {y + size},{x} {y}))"


def workloads(engine: Engine, rng: random.Random) -> list[tuple[str, str, list[dict[str, str]], int]]:
    """Return (label, query id, parameters per request, requests) for each workload."""
    with engine.connect() as conn:
        districts = [
            str(i) for i in conn.execute(text("SELECT id FROM assets WHERE layer_id = 'districts'")).scalars()
        ]
        points = [
            str(i)
            for i in conn.execute(
                text("SELECT id FROM assets WHERE layer_id = 'dumping_points' ORDER BY random() LIMIT 50")
            ).scalars()
        ]

    def many(make: object, n: int) -> list[dict[str, str]]:
        return [make() for _ in range(n)]  # type: ignore[operator]

    return [
        ("flood zones (cached)", "flood_zones", many(dict, 5), 5),
        ("flood zones, what-if level", "flood_zones", [{"level_cm": str(150 + 25 * i)} for i in range(5)], 5),
        ("assets at risk", "assets_at_risk", many(dict, 5), 5),
        ("waste clusters 6 h", "waste_clusters", many(lambda: {"hours": "6"}, 5), 5),
        (
            "in area 0.02° box, 3 layers",
            "in_area",
            many(lambda: {"geometry": _box(rng, 0.02), "layers": "cctv,dumping_points,taxpayers"}, 10),
            10,
        ),
        ("in a kecamatan, all layers", "in_area", [{"district": d} for d in districts], len(districts)),
        (
            "taxpayers within 300 m",
            "within_distance",
            many(lambda: {"layer": "taxpayers", "point": _point(rng), "distance_m": "300"}, 10),
            10,
        ),
        (
            "10 nearest taxpayers",
            "nearest",
            many(lambda: {"layer": "taxpayers", "point": _point(rng), "n": "10"}, 10),
            10,
        ),
        ("cameras seeing a TPS", "cameras_seeing", [{"asset_id": p} for p in points[:10]], 10),
        ("taxpayers per kecamatan", "density", many(lambda: {"layer": "taxpayers", "by": "kecamatan"}, 3), 3),
        ("taxpayers per kelurahan", "density", many(lambda: {"layer": "taxpayers", "by": "kelurahan"}, 3), 3),
        (
            "dumping points per 500 m hexagon",
            "density",
            many(lambda: {"layer": "dumping_points", "by": "hexagon", "hex_size_m": "500"}, 3),
            3,
        ),
        ("tax compliance", "tax_compliance", many(dict, 3), 3),
    ]


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--only", default="", help="run only the workloads whose label contains this")
    args = parser.parse_args()
    url, engine = bench_database(args.scale)
    with engine.connect() as conn:
        assets = conn.execute(text("SELECT count(*) FROM assets")).scalar_one()
    print(f"{assets:,} assets in the bench database")
    key = admin_key(engine)
    rng = random.Random(11)
    print(f"{'workload':36} {'rows':>8} {'http p50':>9} {'http max':>9} {'sql p50':>9} {'sql max':>9}  ms")
    with (
        running_server(url) as (base, _),
        httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120) as http,
    ):
        for label, query_id, params, count in workloads(engine, rng):
            if args.only not in label:
                continue
            matched: list[int] = []

            def over_http(
                i: int,
                query_id: str = query_id,
                params: list[dict[str, str]] = params,
                matched: list[int] = matched,
            ) -> None:
                response = http.get(
                    f"{base}/collections/{query_id}/items", params={**params[i], "limit": "1000"}
                )
                response.raise_for_status()
                matched.append(response.json()["numberMatched"])

            def in_postgis(i: int, query_id: str = query_id, params: list[dict[str, str]] = params) -> None:
                with engine.begin() as conn:
                    ctx = QueryContext(conn, ADMIN, datetime.now(UTC))
                    answer = run_query(ctx, QUERIES[query_id], params[i])
                    conn.execute(
                        select(func.count()).select_from(answer.built.statement.subquery())
                    ).scalar_one()

            http_figures = measure(over_http, count, 1)
            sql_figures = measure(in_postgis, count, 1)
            rows = int(sum(matched) / max(1, len(matched)))
            print(
                f"{label:36} {rows:8d} {http_figures['p50']:9.0f} {http_figures['p99']:9.0f} "
                f"{sql_figures['p50']:9.0f} {sql_figures['p99']:9.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
