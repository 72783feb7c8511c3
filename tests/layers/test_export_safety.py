"""Safe files: no formula cells, Shapefile names without collisions, clean file names, hidden fields."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pyogrio
import pytest
from geoalchemy2.shape import from_shape
from shapely import Point
from sqlalchemy import Connection, insert

from layers.access.policy import field_view, principal_for
from layers.catalog import LAYERS
from layers.errors import InvalidInput
from layers.export.csv_xlsx import csv_chunks, write_xlsx
from layers.export.formats import Format, parse_format, safe_filename
from layers.export.rows import ExportSource, Paging, layer_source
from layers.export.shapefile import dbf_names
from layers.features.cql2 import filter_expression
from layers.features.pages import FeatureQuery, count_matched, layer_queryables
from layers.tables import assets

ADMIN = principal_for("test", ["admin"], kind="user")
NASTY = ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _camera(conn: Connection, name: str) -> None:
    props = {"camera_id": name[:60], "location": name, "view_direction_deg": 0, "fov_deg": 60, "range_m": 50}
    conn.execute(
        insert(assets).values(
            layer_id="cctv", external_id=f"X-{abs(hash(name))}", name=name, agency="kominfo",
            geom=from_shape(Point(128.18, -3.70), srid=4326), properties=props,
        )
    )  # fmt: skip


def _only(conn: Connection, name: str) -> FeatureQuery:
    layer = LAYERS["cctv"]
    qs = layer_queryables(layer, field_view(ADMIN, layer))
    return FeatureQuery(filters=(qs["name"].expr == name,))


def _source(conn: Connection, q: FeatureQuery, layer_id: str = "cctv", role: str = "admin") -> ExportSource:
    layer = LAYERS[layer_id]
    return layer_source(conn, layer, field_view(principal_for("t", [role], kind="user"), layer), q, Paging())


@pytest.mark.parametrize("nasty", NASTY)
def test_csv_cells_never_start_a_formula(conn: Connection, nasty: str) -> None:
    _camera(conn, nasty)
    body = b"".join(csv_chunks(conn, _source(conn, _only(conn, nasty)))).decode("utf-8-sig")
    row = list(csv.DictReader(io.StringIO(body, newline="")))[0]
    assert row["name"] == "'" + nasty and row["location"] == "'" + nasty
    assert row["lat"].startswith("-")  # numbers stay numbers


@pytest.mark.parametrize("nasty", NASTY[:4])
def test_xlsx_cells_never_start_a_formula(conn: Connection, tmp_path: Path, nasty: str) -> None:
    _camera(conn, nasty)
    target = tmp_path / "out.xlsx"
    write_xlsx(conn, _source(conn, _only(conn, nasty)), target)
    frame = pyogrio.read_dataframe(target)
    assert frame["name"].tolist() == ["'" + nasty]
    with zipfile.ZipFile(target) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")


def test_dbf_names_never_collide() -> None:
    names = [
        "tapping_box_id",
        "tapping_box_type",
        "Tapping_Box_Extra",
        "tapping_bo",
        "tapping__2",
        "ok",
        "OK",
    ]
    mapping = dbf_names(names)
    assert list(mapping) == names
    assert all(len(v) <= 10 and v.isascii() for v in mapping.values())
    assert len({v.casefold() for v in mapping.values()}) == len(names)


def test_dbf_names_keep_short_names() -> None:
    assert dbf_names(["id", "status", "ptz"]) == {"id": "id", "status": "status", "ptz": "ptz"}


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("cctv", "cctv.gpkg"),
        ("../../etc/passwd", "etc_passwd.gpkg"),
        ('a"b\r\nc', "a_b_c.gpkg"),
        ("", "kendali.gpkg"),
    ],
)
def test_file_names_are_sanitised(stem: str, expected: str) -> None:
    assert safe_filename(stem, Format.GPKG) == expected


@pytest.mark.parametrize(("value", "multi"), [("exe", False), (None, False), ("csv", True)])
def test_unknown_or_single_layer_formats_are_refused(value: str | None, multi: bool) -> None:
    with pytest.raises(InvalidInput):
        parse_format(value, multi_layer=multi)


def test_export_applies_the_items_filter(conn: Connection, tmp_path: Path) -> None:
    layer = LAYERS["dumping_points"]
    view = field_view(ADMIN, layer)
    expr = filter_expression("status IN ('full','overflow')", "cql2-text", layer_queryables(layer, view))
    q = FeatureQuery(filters=(expr,), bbox=(128.15, -3.75, 128.22, -3.66))
    body = b"".join(csv_chunks(conn, layer_source(conn, layer, view, q, Paging()))).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert len(rows) == count_matched(conn, layer, view, q) > 0
    assert {r["status"] for r in rows} <= {"full", "overflow"}


def test_export_leaves_out_fields_the_caller_may_not_see(conn: Connection) -> None:
    viewer = _source(conn, FeatureQuery(), "taxpayers", "bpprd-viewer")
    analyst = _source(conn, FeatureQuery(), "taxpayers", "bpprd-analyst")
    viewer_names = {c.name for c in viewer.columns}
    assert {"tax_rate_pct", "status_value"}.isdisjoint(viewer_names)
    assert {"tax_rate_pct", "status_value"} <= {c.name for c in analyst.columns}
