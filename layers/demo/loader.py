"""Load the Ambon demo city into the database by COPY, in one transaction, marked as demo data."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql
from shapely import Point, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, text

from layers.catalog import LAYERS
from layers.demo.generate import AssetRow, generate_assets, generate_history, layer_counts
from layers.demo.geography import DemoGeography, Place, build_geography, load_island

HISTORY_DAYS = 3
OBSERVATION_BUDGET = 2_000_000  # history rows at most, whatever the scale
DEMO_SOURCE = "demo"
ASSET_COLUMNS = (
    "layer_id",
    "external_id",
    "name",
    "geom",
    "footprint",
    "properties",
    "agency",
    "demo",
    "created_at",
    "updated_at",
)
STATUS_COLUMNS = ("asset_id", "status", "value", "unit", "observed_at", "received_at", "source", "details")

Progress = Callable[[str], None]


@dataclass
class LoadReport:
    """What a demo load wrote."""

    counts: dict[str, int] = field(default_factory=dict)
    observations: int = 0
    rasters: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """Return a one-line human summary."""
        parts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        return (
            f"demo city loaded in {self.seconds:.1f} s: {parts}; {self.observations} status reports; "
            f"rasters {', '.join(self.rasters)}"
        )


def demo_loaded(engine: Engine) -> bool:
    """Return whether the database already holds any asset (then the demo is not loaded again)."""
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM assets)")).scalar_one())


def _ewkt(geom: BaseGeometry) -> str:
    return f"SRID=4326;{geom.wkt}"


def _place_rows(layer_id: str, places: Iterable[Place]) -> Iterator[tuple[Any, ...]]:
    owner = LAYERS[layer_id].owner
    for place in places:
        yield (
            layer_id,
            place.code,
            place.name,
            _ewkt(place.geom),
            None,
            json.dumps(place.properties),
            owner,
            True,
        )


def _dated(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Date demo assets before their history starts, so time travel into the history finds them."""
    created = datetime.now(UTC) - timedelta(days=HISTORY_DAYS + 1)
    return (row + (created, created) for row in rows)


def _asset_rows(layer_id: str, rows: Iterable[AssetRow]) -> Iterator[tuple[Any, ...]]:
    spec = LAYERS[layer_id]
    for row in rows:
        point = Point(row.lon, row.lat)
        footprint = None
        if spec.footprint is not None:
            footprint = _ewkt(spec.footprint(point, spec.properties.model_validate(row.properties)))
        props = json.dumps(row.properties)
        yield (layer_id, row.external_id, row.name, _ewkt(point), footprint, props, spec.owner, True)


def _copy(
    cur: psycopg.Cursor[Any], table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> int:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    n = 0
    with cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _clear_demo(cur: psycopg.Cursor[Any]) -> None:
    cur.execute("DELETE FROM assets WHERE demo")
    cur.execute("DELETE FROM raster_sources WHERE demo")


def load_demo(
    engine: Engine,
    *,
    scale: int,
    seed: int,
    force: bool,
    data_dir: Path,
    raster_writer: RasterWriter | None = None,
    progress: Progress = lambda _: None,
) -> LoadReport:
    """Load the demo city; with `force`, replace an earlier demo load. Returns what was written."""
    started = time.monotonic()
    report = LoadReport()
    geography = build_geography()
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)  # noqa: S101 - the engine uses psycopg 3
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = 0")
            if force:
                _clear_demo(cur)
            _load_places(cur, geography, report, progress)
            _load_assets(cur, scale, seed, report, progress)
            report.observations = _load_history(cur, seed, progress)
            if raster_writer is not None:
                report.rasters = _load_rasters(cur, geography, data_dir / "rasters", seed, raster_writer)
                progress(f"  rasters: {', '.join(report.rasters)}")
        conn.autocommit = True
        try:
            conn.execute("ANALYZE assets")
            conn.execute("ANALYZE asset_status")
        finally:
            conn.autocommit = False  # the connection goes back to the pool, which expects transactions
    finally:
        raw.close()
    report.seconds = time.monotonic() - started
    return report


def _load_places(
    cur: psycopg.Cursor[Any], geography: DemoGeography, report: LoadReport, progress: Progress
) -> None:
    for layer_id, places in (
        ("districts", geography.districts),
        ("villages", geography.villages),
        ("rivers", geography.rivers),
        ("river_basins", geography.basins),
    ):
        rows = _dated(_place_rows(layer_id, places))
        report.counts[layer_id] = _copy(cur, "assets", ASSET_COLUMNS, rows)
        progress(f"  {layer_id}: {report.counts[layer_id]}")


def _load_assets(
    cur: psycopg.Cursor[Any], scale: int, seed: int, report: LoadReport, progress: Progress
) -> None:
    for layer_id, count in layer_counts(scale).items():
        rows = _asset_rows(layer_id, generate_assets(layer_id, count, seed))
        report.counts[layer_id] = _copy(cur, "assets", ASSET_COLUMNS, _dated(rows))
        progress(f"  {layer_id}: {report.counts[layer_id]}")


CHUNK = 20_000


def _load_history(cur: psycopg.Cursor[Any], seed: int, progress: Progress) -> int:
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=HISTORY_DAYS)
    cur.execute("SELECT kendali_ensure_observation_partitions(%s, %s)", (start, end + timedelta(days=90)))
    live = [spec for spec in LAYERS.values() if spec.status is not None]
    cur.execute("SELECT count(*) FROM assets WHERE demo AND layer_id = ANY(%s)", ([s.id for s in live],))
    row = cur.fetchone()
    per_asset = max(1, OBSERVATION_BUDGET // max(int(row[0]) if row else 1, 1))
    written = 0
    for spec in live:
        unit = spec.status.unit if spec.status else None
        for chunk in _demo_assets(cur, spec.id):
            history, latest = _history_rows(chunk, spec.id, unit, start, end, seed, per_asset)
            written += _copy(cur, "observations", STATUS_COLUMNS, history)
            _copy(cur, "asset_status", STATUS_COLUMNS, latest)
        progress(f"  {spec.id}: history written")
    return written


def _demo_assets(cur: psycopg.Cursor[Any], layer_id: str) -> Iterator[list[tuple[int, AssetRow]]]:
    """Yield the demo assets of a layer in id order, a chunk at a time (COPY cannot share a cursor)."""
    last_id = 0
    while True:
        cur.execute(
            "SELECT id, external_id, name, ST_X(geom), ST_Y(geom), properties FROM assets "
            "WHERE demo AND layer_id = %s AND id > %s ORDER BY id LIMIT %s",
            (layer_id, last_id, CHUNK),
        )
        rows = cur.fetchall()
        if not rows:
            return
        last_id = rows[-1][0]
        yield [
            (r[0], AssetRow(external_id=r[1], name=r[2], lon=r[3], lat=r[4], properties=r[5])) for r in rows
        ]


def _history_rows(
    chunk: list[tuple[int, AssetRow]],
    layer_id: str,
    unit: str | None,
    start: datetime,
    end: datetime,
    seed: int,
    max_rows: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Return the history rows of a chunk of assets and each asset's latest row."""
    history: list[tuple[Any, ...]] = []
    latest: list[tuple[Any, ...]] = []
    for asset_id, asset in chunk:
        rows = [
            (
                asset_id,
                r.status,
                r.value,
                unit,
                r.observed_at,
                r.observed_at,
                DEMO_SOURCE,
                json.dumps(r.details),
            )
            for r in generate_history(layer_id, asset, start, end, seed, max_rows=max_rows)
        ]
        history.extend(rows)
        if rows:
            latest.append(rows[-1])
    return history, latest


RASTER_TITLES = {
    "dem": ("Model elevasi digital (demo)", "Digital elevation model (demo)"),
    "flood_hazard": ("Bahaya banjir (demo)", "Flood hazard (demo)"),
}


class RasterFile(Protocol):
    """A raster written to disk, as the basemaps package describes it."""

    @property
    def path(self) -> Path:
        """The file on disk."""

    @property
    def kind(self) -> str:
        """What the raster holds (dem, flood_hazard)."""

    @property
    def unit(self) -> str:
        """Unit of the values."""

    @property
    def nodata(self) -> float:
        """The nodata value."""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """minx, miny, maxx, maxy in EPSG:4326."""

    @property
    def width(self) -> int:
        """Width in pixels."""

    @property
    def height(self) -> int:
        """Height in pixels."""


# Called as writer(island, rivers, out_dir, seed); basemaps/ provides it (layers/ cannot import basemaps/).
RasterWriter = Callable[[Any, Any, Path, int], Sequence[RasterFile]]


def _load_rasters(
    cur: psycopg.Cursor[Any],
    geography: DemoGeography,
    raster_dir: Path,
    seed: int,
    writer: RasterWriter,
) -> list[str]:
    rivers = [p.geom for p in geography.rivers]
    written = writer(load_island(), rivers, raster_dir.resolve(), seed)
    for info in written:
        title_id, title_en = RASTER_TITLES.get(info.kind, (info.kind, info.kind))
        register_raster(cur, info.kind, info, title_id, title_en)
    return [info.kind for info in written]


def register_raster(
    cur: psycopg.Cursor[Any], raster_id: str, info: RasterFile, title_id: str, title_en: str
) -> None:
    """Record a demo raster file in `raster_sources` (replacing an earlier one with the same id)."""
    cur.execute(
        "INSERT INTO raster_sources "
        "(id, title_id, title_en, kind, path, unit, nodata, bounds, width, height, demo) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, ST_GeomFromText(%s, 4326), %s, %s, true) "
        "ON CONFLICT (id) DO UPDATE SET path = EXCLUDED.path, bounds = EXCLUDED.bounds, "
        "width = EXCLUDED.width, height = EXCLUDED.height, nodata = EXCLUDED.nodata",
        (
            raster_id,
            title_id,
            title_en,
            info.kind,
            str(info.path),
            info.unit,
            info.nodata,
            box(*info.bounds).wkt,
            info.width,
            info.height,
        ),
    )
