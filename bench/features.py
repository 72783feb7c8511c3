"""Benchmark the OGC API – Features items path at scale, next to the same SQL run straight in PostGIS.

Usage: .venv/bin/python bench/features.py [--scale 500] [--requests 200] [--concurrency 4] [--part P]
(scale 500 is about 1,000,000 assets; the first run loads them into the `kendali_bench` database.)

Parts: `pages` (the table of workloads), `bbox` (counting a point layer in a bbox by each form of the
test: only the old `&&` one counts points outside), `plan` (pages of a layer whose ids come late, plain
and in a bbox: time, rows the plan read and threw away, buffers; also with the (layer_id, id) index
while it has no migration).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from _setup import admin_key, bench_database, measure, running_server
from sqlalchemy import Boolean, Connection, Engine, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from geo.bbox import BBox
from geo.kinds import GeometryKind
from layers.access.policy import field_view, principal_for
from layers.catalog import LAYERS
from layers.features.bbox_filter import bbox_envelope, in_bbox
from layers.features.cql2 import filter_expression
from layers.features.pages import FeatureQuery, count_matched, fetch_page, layer_queryables, page_statement
from layers.tables import assets

CITY = (128.10, -3.78, 128.30, -3.62)
ADMIN = principal_for("bench", ["admin"], kind="key")


def random_bbox(rng: random.Random, size_deg: float) -> BBox:
    """Return a square bbox of `size_deg` somewhere over the city."""
    x = rng.uniform(CITY[0], CITY[2] - size_deg)
    y = rng.uniform(CITY[1], CITY[3] - size_deg)
    return (x, y, x + size_deg, y + size_deg)


def workloads() -> dict[str, tuple[str, dict[str, str], bool]]:
    """Return named requests: layer, query parameters, and whether each call gets a fresh random bbox."""
    return {
        "bbox page 100 (taxpayers)": ("taxpayers", {"limit": "100"}, True),
        "bbox page 1000 (taxpayers)": ("taxpayers", {"limit": "1000"}, True),
        "cql2 filter (dumping_points)": (
            "dumping_points",
            {"limit": "100", "filter": "status IN ('full','overflow') AND capacity_m3 > 6"},
            True,
        ),
        "first page 100 (dumping_points)": ("dumping_points", {"limit": "100"}, False),
    }


BBOX_FORMS: dict[str, Callable[[ColumnElement[Any], BBox], ColumnElement[bool]]] = {
    "&& only (before)": lambda geom, box: geom.op("&&", return_type=Boolean)(bbox_envelope(box)),
    "ST_Intersects": lambda geom, box: func.ST_Intersects(geom, bbox_envelope(box)),
    "&& and ST_X/ST_Y (now)": lambda geom, box: in_bbox(GeometryKind.POINT, geom, box),
}


def bbox_forms(engine: Engine, layer_id: str = "taxpayers", runs: int = 7) -> Iterator[str]:
    """Yield, per bbox size and form of the bbox test, the count it gives and its time (min and median)."""
    yield f"{'bbox test (' + layer_id + ' count)':32} {'deg':>5} {'matched':>9} {'min ms':>8} {'p50 ms':>8}"
    centre = ((CITY[0] + CITY[2]) / 2, (CITY[1] + CITY[3]) / 2)
    with engine.connect() as conn:
        for size in (0.02, 0.05, 0.16):
            box = (centre[0] - size / 2, centre[1] - size / 2, centre[0] + size / 2, centre[1] + size / 2)
            for name, form in BBOX_FORMS.items():
                stmt = select(func.count()).where(assets.c.layer_id == layer_id, form(assets.c.geom, box))
                times, matched = [], 0
                for _ in range(runs):
                    t0 = time.perf_counter()
                    matched = conn.execute(stmt).scalar_one()
                    times.append((time.perf_counter() - t0) * 1000)
                yield f"{name:32} {size:5.2f} {matched:9} {min(times):8.1f} {statistics.median(times):8.1f}"


def _plan_totals(node: dict[str, Any]) -> tuple[int, int]:
    """Return the rows a plan's nodes threw away by filter, and the shared buffers it read or hit."""
    removed = int(node.get("Rows Removed by Filter", 0))
    for child in node.get("Plans", []):
        removed += _plan_totals(child)[0]
    return removed, int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))


PLANNED_INDEX = "ix_assets_layer_id_id"  # (layer_id, id): issue 13, its migration pending as of this bench


def _best_plan(conn: Connection, q: FeatureQuery, layer_id: str, runs: int) -> dict[str, Any]:
    layer = LAYERS[layer_id]
    sql = str(
        page_statement(layer, field_view(ADMIN, layer), q).compile(
            conn, compile_kwargs={"literal_binds": True}
        )
    )
    explain = text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)  # noqa: S608 - our own compiled statement
    plans = [conn.execute(explain).scalar_one()[0] for _ in range(runs)]
    return min(plans, key=lambda p: float(p["Execution Time"]))


def _plan_rows(conn: Connection, schema: str, layer_id: str, runs: int) -> Iterator[str]:
    centre = ((CITY[0] + CITY[2]) / 2, (CITY[1] + CITY[3]) / 2)
    box = (centre[0] - 0.01, centre[1] - 0.01, centre[0] + 0.01, centre[1] + 0.01)
    for label, q in (
        ("first page", FeatureQuery(limit=100)),
        ("bbox 0.02 page", FeatureQuery(limit=100, bbox=box)),
    ):
        best = _best_plan(conn, q, layer_id, runs)
        removed, buffers = _plan_totals(best["Plan"])
        yield f"{label:16} {schema:16} {layer_id:16} {best['Execution Time']:8.1f} {removed:10} {buffers:8}"


def page_plans(engine: Engine, layer_id: str = "dumping_points", runs: int = 5) -> Iterator[str]:
    """Yield a late layer's page plans: best execution time of `runs`, rows discarded, buffers.

    While the (layer_id, id) index has no migration, the figures with it come from a transaction that
    makes it and is rolled back (it holds a SHARE lock on assets for a few seconds).
    """
    yield f"{'page plan':16} {'schema':16} {'layer':16} {'exec ms':>8} {'discarded':>10} {'buffers':>8}"
    with engine.connect() as conn:
        yield from _plan_rows(conn, "as migrated", layer_id, runs)
        if conn.execute(text("SELECT to_regclass(:name)"), {"name": PLANNED_INDEX}).scalar_one() is None:
            conn.execute(text("CREATE INDEX ix_assets_layer_id_id ON assets (layer_id, id)"))
            yield from _plan_rows(conn, "+(layer_id, id)", layer_id, runs)
        conn.rollback()


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--part", choices=("all", "pages", "bbox", "plan"), default="all")
    args = parser.parse_args()
    url, engine = bench_database(args.scale)
    if args.part in ("all", "plan"):
        for line in page_plans(engine):
            print(line, flush=True)
    if args.part in ("all", "bbox"):
        for line in bbox_forms(engine):
            print(line, flush=True)
    if args.part in ("all", "pages"):
        pages(url, engine, args.requests, args.concurrency)


def pages(url: str, engine: Engine, requests: int, concurrency: int) -> None:
    """Print the workloads' rates and latencies over HTTP and straight in PostGIS."""
    key = admin_key(engine)
    rng = random.Random(7)
    print(f"{'workload':32} {'path':6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    with (
        running_server(url) as (base, _),
        httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
    ):
        for name, (layer_id, params, with_bbox) in workloads().items():
            boxes = [random_bbox(rng, 0.02) if with_bbox else None for _ in range(requests)]

            def over_http(
                i: int,
                layer_id: str = layer_id,
                params: dict[str, str] = params,
                boxes: list[BBox | None] = boxes,
            ) -> None:
                box = boxes[i]
                query = params | ({"bbox": ",".join(f"{v:.5f}" for v in box)} if box else {})
                response = http.get(f"{base}/collections/{layer_id}/items", params=query)
                response.raise_for_status()

            def in_postgis(
                i: int,
                layer_id: str = layer_id,
                params: dict[str, str] = params,
                boxes: list[BBox | None] = boxes,
            ) -> None:
                layer = LAYERS[layer_id]
                view = field_view(ADMIN, layer)
                filters: tuple[ColumnElement[bool], ...] = ()
                if "filter" in params:
                    filters = (
                        filter_expression(params["filter"], "cql2-text", layer_queryables(layer, view)),
                    )
                q = FeatureQuery(limit=int(params["limit"]), bbox=boxes[i], filters=filters)
                with engine.connect() as conn:
                    fetch_page(conn, layer, view, q)
                    count_matched(conn, layer, view, q)

            http_figures = measure(over_http, requests, concurrency)
            sql_figures = measure(in_postgis, requests, concurrency)
            for path, fig in (("http", http_figures), ("sql", sql_figures)):
                print(
                    f"{name:32} {path:6} {fig['rate']:8.1f} {fig['p50']:8.1f} {fig['p99']:8.1f}", flush=True
                )


if __name__ == "__main__":
    main()
