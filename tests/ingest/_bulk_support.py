"""Large import files and committed fixtures for the bulk and job tests (they run against a real server)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import shapely
from sqlalchemy import Connection, Engine, text

from ingest.importer import LOCK_CLASS
from layers.access.auth import create_key
from layers.access.policy import principal_for
from layers.catalog import get_layer
from layers.editing.edits import create_feature

LAYER = "dumping_points"
IMPORT = f"/collections/{LAYER}/import"


def big_gpkg(
    path: Path, rows: int, prefix: str, *, bad_row: int | None = None, ids: dict[int, str] | None = None
) -> Path:
    """Write `rows` dumping points as a GeoPackage; `bad_row` (1-based) gets latitude 95; `ids` by row."""
    rng = np.random.default_rng(11)
    lat = rng.uniform(-3.72, -3.66, rows)
    if bad_row is not None:
        lat[bad_row - 1] = 95.0
    external_ids = [f"{prefix}-{i}" for i in range(rows)]
    for row, external_id in (ids or {}).items():
        external_ids[row - 1] = external_id
    frame = gpd.GeoDataFrame(
        {
            "name": [f"TPS massal {i}" for i in range(rows)],
            "external_id": external_ids,
            "tps_type": ["kontainer"] * rows,
            "capacity_m3": np.full(rows, 9.0),
        },
        geometry=shapely.points(rng.uniform(128.15, 128.25, rows), lat),
        crs=4326,
    )
    frame.to_file(path, driver="GPKG", SPATIAL_INDEX="NO")
    return path


def stored_count(engine: Engine, prefix: str) -> int:
    """Return how many dumping points carry an external id starting with `prefix`."""
    with engine.connect() as conn:
        stmt = text("SELECT count(*) FROM assets WHERE layer_id = :l AND external_id LIKE :p")
        return int(conn.execute(stmt, {"l": LAYER, "p": f"{prefix}%"}).scalar_one())


def version_of(engine: Engine, external_id: str) -> int:
    """Return the version of one dumping point."""
    with engine.connect() as conn:
        stmt = text("SELECT version FROM assets WHERE layer_id = :l AND external_id = :e")
        return int(conn.execute(stmt, {"l": LAYER, "e": external_id}).scalar_one())


@contextmanager
def committed_run(engine: Engine, prefix: str) -> Iterator[None]:
    """Delete what a test committed under `prefix` when it ends."""
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM assets WHERE layer_id = :l AND external_id LIKE :p"),
                {"l": LAYER, "p": f"{prefix}%"},
            )


@contextmanager
def api_key(engine: Engine, *roles: str) -> Iterator[dict[str, str]]:
    """Yield the headers of a committed API key of its own name; the key is deleted afterwards."""
    with engine.begin() as conn:
        key = create_key(conn, f"bulk-{secrets.token_hex(4)}", list(roles))
    try:
        yield {"Authorization": f"Bearer {key.secret}"}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM api_keys WHERE id = :i"), {"i": key.id})


def create_point(engine: Engine, external_id: str) -> None:
    """Commit one dumping point (version 1) with this external id."""
    editor = principal_for("user:bulk-test", ["dlhp-editor"], kind="user")
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [128.18, -3.70]},
        "properties": {
            "name": "TPS terkunci",
            "external_id": external_id,
            "tps_type": "tps",
            "capacity_m3": 3,
        },
    }
    with engine.begin() as conn:
        create_feature(conn, get_layer(LAYER), editor, feature)


@contextmanager
def row_locked(engine: Engine, external_id: str) -> Iterator[Connection]:
    """Hold a row lock on a dumping point: an import rewriting it waits there, mid-way, until release."""
    with engine.connect() as conn:
        conn.begin()
        stmt = text("SELECT id FROM assets WHERE layer_id = :l AND external_id = :e FOR UPDATE")
        conn.execute(stmt, {"l": LAYER, "e": external_id}).scalar_one()
        try:
            yield conn
        finally:
            conn.rollback()


def someone_waits_for_a_lock(engine: Engine) -> bool:
    """Return whether a backend of this database is waiting for a lock (the import, on the held row)."""
    with engine.connect() as conn:
        stmt = text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(conn.execute(stmt).scalar_one()) > 0


def import_lock_held(engine: Engine) -> bool:
    """Return whether any layer's import lock (ingest.importer.LOCK_CLASS) is held."""
    with engine.connect() as conn:
        stmt = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :c")
        return int(conn.execute(stmt, {"c": LOCK_CLASS}).scalar_one()) > 0


def wait_for(check: Callable[[], Any], timeout_s: float = 60, what: str = "condition") -> Any:
    """Poll `check` until it returns something true; return it, or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def upload(path: Path) -> dict[str, tuple[str, bytes]]:
    """Return the multipart `files` of an upload."""
    return {"file": (path.name, path.read_bytes())}


def job(base: str, location: str, headers: dict[str, str]) -> dict[str, Any]:
    """GET a job (200 expected)."""
    response = httpx.get(base + location, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
