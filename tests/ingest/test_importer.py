"""File import: every format, CRS to lon/lat, upsert by external id, dry run, all or nothing."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, text

from ingest.importer import ImportOptions, ImportReport, ImportSettings, import_path
from layers.access.policy import principal_for
from layers.live.events import events_after, latest_event_id
from layers.tables import assets, audit_log
from tests.ingest._import_files import geojson_with, points, write_csv, write_file

DLHP = principal_for("user:dlhp-editor", ["dlhp-editor"], kind="user")
SETTINGS = ImportSettings()


def run(conn: Connection, path: Path, **options: Any) -> ImportReport:
    return import_path(conn, DLHP, "dumping_points", path, ImportOptions(**options), SETTINGS)


def stored(conn: Connection, external_id: str) -> dict[str, Any] | None:
    stmt = select(
        assets.c.name,
        assets.c.properties,
        assets.c.version,
        func.ST_X(assets.c.geom).label("lon"),
        func.ST_Y(assets.c.geom).label("lat"),
    ).where(assets.c.layer_id == "dumping_points", assets.c.external_id == external_id)
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else dict(row)


def count(conn: Connection, prefix: str) -> int:
    stmt = select(func.count()).where(assets.c.external_id.like(f"{prefix}%"))
    return int(conn.execute(stmt).scalar_one())


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shapefile", "csv", "csv_wkt"])
def test_each_format_inserts_its_rows(conn: Connection, tmp_path: Path, fmt: str) -> None:
    rows = points(3)
    report = run(conn, write_file(tmp_path, fmt, rows))
    assert (report.inserted, report.rejections, report.committed) == (3, [], True)
    row = stored(conn, rows[2]["external_id"])
    assert row is not None
    assert row["name"] == "TPS uji 2"
    assert row["properties"]["tps_type"] == "kontainer"
    assert row["properties"]["capacity_m3"] == 8.0
    assert (row["lon"], row["lat"]) == pytest.approx((128.182, -3.702), abs=1e-9)


@pytest.mark.parametrize("fmt", ["gpkg", "shapefile"])
def test_file_in_utm_52s_is_reprojected_to_lon_lat(conn: Connection, tmp_path: Path, fmt: str) -> None:
    rows = points(2)
    report = run(conn, write_file(tmp_path, fmt, rows, srid=32752))
    assert (report.crs, report.crs_assumed, report.inserted) == ("EPSG:32752", False, 2)
    row = stored(conn, rows[1]["external_id"])
    assert row is not None
    assert (row["lon"], row["lat"]) == pytest.approx((128.181, -3.701), abs=1e-7)


def test_csv_takes_its_crs_from_the_option(conn: Connection, tmp_path: Path) -> None:
    rows = points(2)
    report = run(conn, write_csv(tmp_path / "utm.csv", rows, utm=True), crs="EPSG:32752")
    assert (report.crs, report.inserted) == ("EPSG:32752", 2)
    row = stored(conn, rows[0]["external_id"])
    assert row is not None
    assert (row["lon"], row["lat"]) == pytest.approx((128.18, -3.70), abs=1e-7)


def test_reimport_updates_changed_rows_with_a_new_version_and_skips_the_rest(
    conn: Connection, tmp_path: Path
) -> None:
    rows = points(3)
    run(conn, write_file(tmp_path, "geojson", rows))
    rows[1]["capacity_m3"] = 20.0
    again = tmp_path / "again"
    again.mkdir()
    report = run(conn, write_file(again, "geojson", rows))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    changed = stored(conn, rows[1]["external_id"])
    assert changed is not None and (changed["version"], changed["properties"]["capacity_m3"]) == (2, 20.0)
    actions = conn.execute(
        select(audit_log.c.action).where(audit_log.c.after["external_id"].astext == rows[1]["external_id"])
    ).scalars()
    assert sorted(actions) == ["create", "replace"]


def test_an_import_of_n_rows_records_one_batch_event_and_no_feature_event(
    conn: Connection, tmp_path: Path
) -> None:
    last = latest_event_id(conn)
    report = run(conn, write_file(tmp_path, "geojson", points(4)))
    recorded = [e for e in events_after(conn, last) if e.layer_id == "dumping_points"]
    assert [e.type for e in recorded] == ["batch"]
    assert recorded[0].payload["count"] == report.inserted == 4
    assert len(recorded[0].payload["ids"]) == 4


def test_dry_run_reports_and_writes_nothing(conn: Connection, tmp_path: Path) -> None:
    rows = points(3)
    report = run(conn, write_file(tmp_path, "gpkg", rows), dry_run=True)
    assert (report.inserted, report.dry_run, report.committed) == (3, True, False)
    assert count(conn, rows[0]["external_id"][:-2]) == 0


def test_invalid_geometry_is_reported_and_nothing_is_written(conn: Connection, tmp_path: Path) -> None:
    rows = points(3)
    geometries = [{"type": "Point", "coordinates": [r["lon"], r["lat"]]} for r in rows]
    geometries[1] = {"type": "Point", "coordinates": [128.18, 95.0]}
    report = run(conn, geojson_with(tmp_path / "bad.geojson", rows, geometries))
    assert report.committed is False
    assert [(r.row, r.external_id) for r in report.rejections] == [(2, rows[1]["external_id"])]
    assert "latitude" in report.rejections[0].reason_en and "lintang" in report.rejections[0].reason_id
    assert count(conn, rows[0]["external_id"][:-2]) == 0


def test_csv_with_a_bad_coordinate_is_reported_and_nothing_is_written(
    conn: Connection, tmp_path: Path
) -> None:
    rows = points(3)
    rows[2]["lat"] = "abc"
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,external_id,tps_type,capacity_m3,lat,lon\n"
        + "".join(f"{r['name']},{r['external_id']},tps,5,{r['lat']},{r['lon']}\n" for r in rows)
    )
    report = run(conn, path)
    assert [(r.row, r.reason_en) for r in report.rejections] == [(3, "latitude 'abc' is not a number")]
    assert (report.committed, count(conn, rows[0]["external_id"][:-2])) == (False, 0)


def test_skip_invalid_imports_the_valid_rows(conn: Connection, tmp_path: Path) -> None:
    rows = points(3)
    rows[0]["tps_type"] = "volcano"
    report = run(conn, write_file(tmp_path, "geojson", rows), skip_invalid=True)
    assert (report.inserted, report.committed, len(report.rejections)) == (2, True, 1)
    assert "tps_type" in report.rejections[0].reason_en
    assert stored(conn, rows[0]["external_id"]) is None
    assert stored(conn, rows[1]["external_id"]) is not None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"external_id": None}, "external_id is missing"),
        ({"external_id": "bad id with spaces"}, "external_id must be"),
        ({"name": None}, "name is required"),
        ({"capacity_m3": -1}, "capacity_m3"),
    ],
)
def test_row_problems_are_named(
    conn: Connection, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    rows = points(2)
    rows[1] |= change
    report = run(conn, write_file(tmp_path, "geojson", rows))
    assert [r.row for r in report.rejections] == [2]
    assert reason in report.rejections[0].reason_en


def test_a_repeated_external_id_is_refused(conn: Connection, tmp_path: Path) -> None:
    rows = points(2)
    rows[1]["external_id"] = rows[0]["external_id"]
    report = run(conn, write_file(tmp_path, "csv", rows))
    assert [(r.row, r.reason_en) for r in report.rejections] == [
        (2, f"external_id {rows[0]['external_id']!r} already appears in row 1")
    ]


def test_unknown_columns_are_ignored_and_listed(conn: Connection, tmp_path: Path) -> None:
    rows = [r | {"colour": "green"} for r in points(1)]
    report = run(conn, write_file(tmp_path, "gpkg", rows))
    assert (report.inserted, report.ignored_columns) == (1, ["colour"])


def test_id_column_option_picks_the_external_id(conn: Connection, tmp_path: Path) -> None:
    rows = points(1)
    rows[0]["kode"] = rows[0].pop("external_id")
    report = run(conn, write_file(tmp_path, "csv", rows), id_column="kode")
    assert report.inserted == 1
    assert stored(conn, rows[0]["kode"]) is not None


def test_polygon_layer_takes_polygons(conn: Connection, tmp_path: Path) -> None:
    square = [[128.17, -3.71], [128.19, -3.71], [128.19, -3.69], [128.17, -3.69], [128.17, -3.71]]
    rows = [{"name": "Banjir uji", "external_id": "imp-area-1", "hazard": "banjir"}]
    path = geojson_with(tmp_path / "a.geojson", rows, [{"type": "Polygon", "coordinates": [square]}])
    bpbd = principal_for("user:bpbd", ["bpbd-editor"], kind="user")
    report = import_path(conn, bpbd, "response_areas", path, ImportOptions(), SETTINGS)
    assert (report.inserted, report.rejections) == (1, [])
    found = conn.execute(text("SELECT count(*) FROM areas WHERE external_id = 'imp-area-1'")).scalar_one()
    assert found == 1


@pytest.mark.parametrize(("crs", "inserted"), [("EPSG:32752", 2), (None, 0)])
def test_shapefile_without_prj_uses_the_crs_option(
    conn: Connection, tmp_path: Path, crs: str | None, inserted: int
) -> None:
    archive = write_file(tmp_path, "shapefile", points(2), srid=32752)
    with zipfile.ZipFile(archive) as zf:
        parts = {n: zf.read(n) for n in zf.namelist() if not n.endswith(".prj")}
    stripped = tmp_path / "noprj.zip"
    with zipfile.ZipFile(stripped, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    report = run(conn, stripped, crs=crs)
    assert (report.inserted, report.crs_assumed, len(report.rejections)) == (
        inserted,
        crs is None,
        2 - inserted,
    )
    # Without a CRS the UTM metres are read as degrees and every row is refused as out of range.
    assert all("outside" in r.reason_en for r in report.rejections)
