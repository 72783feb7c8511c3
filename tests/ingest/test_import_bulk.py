"""Imports at the size people have: rows checked and written in bulk, with the semantics of one by one.

The HTTP test bounds a 20,000-point dry run generously (the row-by-row writer needed about 90 s for it on
two cores; the bulk one needs a few). The others check what the set-based writer must keep: audit rows as
edits.py writes them, one batch event, per-row reasons with row numbers, and the row-by-row fallback when
the database refuses a chunk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Engine, func, select, text

from ingest.importer import Control, ImportCancelled, ImportOptions, ImportReport, ImportSettings, import_path
from layers.access.policy import principal_for
from layers.live.events import events_after, latest_event_id
from layers.tables import assets, audit_log
from tests.ingest._bulk_support import IMPORT, api_key, big_gpkg, stored_count, upload
from tests.ingest._import_files import geojson_with, points, write_file

DLHP = principal_for("user:dlhp-editor", ["dlhp-editor"], kind="user")
SETTINGS = ImportSettings()
ROWS = 20_000


def run(conn: Connection, path: Path, control: Control | None = None, **options: Any) -> ImportReport:
    return import_path(conn, DLHP, "dumping_points", path, ImportOptions(**options), SETTINGS, control)


def count(conn: Connection, prefix: str) -> int:
    stmt = select(func.count()).where(
        assets.c.layer_id == "dumping_points", assets.c.external_id.like(f"{prefix}%")
    )
    return int(conn.execute(stmt).scalar_one())


def test_a_20000_point_dry_run_over_http_names_its_one_bad_row_and_writes_nothing(
    server_url: str, engine: Engine, tmp_path: Path
) -> None:
    path = big_gpkg(tmp_path / "big.gpkg", ROWS, "bulk-http", bad_row=12_345)
    with api_key(engine, "dlhp-editor") as editor:
        # How fast is bench/imports.py's to say; the timeout only keeps a hang from stalling the run.
        response = httpx.post(
            f"{server_url}{IMPORT}?dry_run=true&background=false&lang=en",
            files=upload(path),
            headers=editor,
            timeout=300,
        )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["inserted"], report["rejected"], report["committed"]) == (
        ROWS,
        ROWS - 1,
        1,
        False,
    )
    assert report["rejections"][0]["row"] == 12_345
    assert "latitude" in report["rejections"][0]["reason"]
    assert stored_count(engine, "bulk-http") == 0


def test_bulk_writes_audit_rows_as_single_writes_do_and_one_batch_event(
    conn: Connection, tmp_path: Path
) -> None:
    rows = [r | {"capacity_m3": 5.0} for r in points(7_000, prefix="bulk-audit")]  # more than one chunk
    last = latest_event_id(conn)
    first = run(conn, write_file(tmp_path, "gpkg", rows))
    assert (first.inserted, first.rejections, first.committed) == (7_000, [], True)
    rows[6_500]["capacity_m3"] = 42.0
    again = tmp_path / "again"
    again.mkdir()
    second = run(conn, write_file(again, "gpkg", rows))
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 6_999)
    changed = rows[6_500]["external_id"]
    audits = conn.execute(
        select(
            audit_log.c.action, audit_log.c.actor, audit_log.c.target, audit_log.c.before, audit_log.c.after
        )
        .where(audit_log.c.after["external_id"].astext == changed)
        .order_by(audit_log.c.id)
    ).all()
    assert [(a.action, a.actor, a.target) for a in audits] == [
        ("create", DLHP.name, "assets"),
        ("replace", DLHP.name, "assets"),
    ]
    create, replace = audits
    assert create.before is None
    assert set(create.after) == {"name", "external_id", "properties", "geometry", "version"}
    assert create.after["geometry"]["type"] == "Point"
    assert (replace.before["version"], replace.after["version"]) == (1, 2)
    assert (replace.before["properties"]["capacity_m3"], replace.after["properties"]["capacity_m3"]) == (
        5.0,
        42.0,
    )
    created = conn.execute(
        select(func.count()).where(
            audit_log.c.action == "create", audit_log.c.after["external_id"].astext.like("bulk-audit%")
        )
    ).scalar_one()
    assert created == 7_000
    batches = [e for e in events_after(conn, last) if e.layer_id == "dumping_points"]
    assert [(e.type, e.payload["count"]) for e in batches] == [("batch", 7_000), ("batch", 1)]
    assert len(batches[0].payload["ids"]) == 1_000  # the first EVENT_IDS_MAX ids


def test_every_refused_row_is_named_by_its_row_number(conn: Connection, tmp_path: Path) -> None:
    rows = [r | {"capacity_m3": 5.0} for r in points(6_000, prefix="bulk-bad")]
    rows[10]["tps_type"] = "volcano"
    rows[5_500]["external_id"] = rows[20]["external_id"]
    rows[5_999]["name"] = None
    geometries: list[object] = [{"type": "Point", "coordinates": [r["lon"], r["lat"]]} for r in rows]
    geometries[3_000] = {"type": "Point", "coordinates": [200.0, -3.7]}
    report = run(conn, geojson_with(tmp_path / "bad.geojson", rows, geometries))
    assert [r.row for r in report.rejections] == [11, 3_001, 5_501, 6_000]
    reasons = [r.reason_en for r in report.rejections]
    assert "tps_type" in reasons[0] and "longitude" in reasons[1]
    assert "already appears in row 21" in reasons[2] and "name is required" in reasons[3]
    assert (report.committed, count(conn, "bulk-bad")) == (False, 0)


def test_a_row_the_database_refuses_is_named_and_the_rest_go_in(conn: Connection, tmp_path: Path) -> None:
    # A rule only the database knows (held for this test's transaction): the chunk is written row by row.
    conn.execute(
        text("ALTER TABLE assets ADD CONSTRAINT ck_test_no_seven CHECK (name <> 'TPS uji 7') NOT VALID")
    )
    rows = points(10, prefix="bulk-db")
    report = run(conn, write_file(tmp_path, "gpkg", rows), skip_invalid=True)
    assert (report.inserted, [r.row for r in report.rejections]) == (9, [8])
    assert "rule of the store" in report.rejections[0].reason_en
    assert count(conn, "bulk-db") == 9


def test_a_cancelled_import_stops_between_chunks_and_writes_nothing(conn: Connection, tmp_path: Path) -> None:
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)

    control = Control(progress=progress, cancelled=lambda: len(seen) >= 2)  # after the first chunk
    with pytest.raises(ImportCancelled):
        run(
            conn,
            write_file(
                tmp_path, "gpkg", [r | {"capacity_m3": 5.0} for r in points(12_000, prefix="bulk-stop")]
            ),
            control,
        )
    assert seen == [0, 5_000]
    assert count(conn, "bulk-stop") == 0


def test_area_layers_refuse_an_external_id_two_live_areas_share(conn: Connection, tmp_path: Path) -> None:
    square = [[128.17, -3.71], [128.19, -3.71], [128.19, -3.69], [128.17, -3.69], [128.17, -3.71]]
    for _ in range(2):
        conn.execute(
            text(
                "INSERT INTO areas (layer_id, external_id, name, geom, properties, agency, created_by,"
                " updated_by)"
                " VALUES ('response_areas', 'bulk-twice', 'Dua', ST_GeomFromText(:w, 4326),"
                " '{\"hazard\": \"banjir\"}', 'bpbd', 'test', 'test')"
            ),
            {"w": "POLYGON((128.17 -3.71, 128.19 -3.71, 128.19 -3.69, 128.17 -3.69, 128.17 -3.71))"},
        )
    rows = [{"name": "Banjir", "external_id": "bulk-twice", "hazard": "longsor"}]
    path = geojson_with(tmp_path / "a.geojson", rows, [{"type": "Polygon", "coordinates": [square]}])
    bpbd = principal_for("user:bpbd", ["bpbd-editor"], kind="user")
    report = import_path(conn, bpbd, "response_areas", path, ImportOptions(), SETTINGS)
    assert [(r.row, r.external_id) for r in report.rejections] == [(1, "bulk-twice")]
    assert "already has a feature with external_id" in report.rejections[0].reason_en
