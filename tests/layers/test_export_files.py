"""Export files opened with GDAL (pyogrio) and checked against the database: counts, fields, types, CRS."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from contextlib import closing
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import Connection, func, select, text

from layers.access.policy import field_view, principal_for
from layers.catalog import LAYERS
from layers.export.formats import FORMATS, Format, write_file
from layers.export.rows import ExportSource, Paging, layer_source
from layers.features.pages import FeatureQuery
from layers.tables import areas, assets

ADMIN = principal_for("test", ["admin"], kind="user")


def source(
    conn: Connection, layer_id: str, q: FeatureQuery | None = None, role: str = "admin"
) -> ExportSource:
    layer = LAYERS[layer_id]
    view = field_view(principal_for("test", [role], kind="user"), layer)
    return layer_source(conn, layer, view, q or FeatureQuery(), Paging())


def count(conn: Connection, layer_id: str) -> int:
    table = areas if layer_id == "response_areas" else assets
    return int(conn.execute(select(func.count()).where(table.c.layer_id == layer_id)).scalar_one())


def written(conn: Connection, tmp_path: Path, fmt: Format, *layer_ids: str) -> Path:
    target = tmp_path / f"out.{FORMATS[fmt].extension}"
    write_file(conn, [source(conn, i) for i in layer_ids], fmt, target)
    return target


@pytest.mark.parametrize(
    ("layer_id", "geometry_type"),
    [("cctv", "Point"), ("districts", "MultiPolygon"), ("rivers", "MultiLineString"), ("taxpayers", "Point")],
)
def test_geopackage_matches_the_database(
    conn: Connection, tmp_path: Path, layer_id: str, geometry_type: str
) -> None:
    info = pyogrio.read_info(written(conn, tmp_path, Format.GPKG, layer_id), layer=layer_id)
    assert info["features"] == count(conn, layer_id)
    assert info["geometry_type"] == geometry_type
    assert info["crs"] == "EPSG:4326"
    assert {"id", "name", "external_id", *LAYERS[layer_id].properties.model_fields} <= set(info["fields"])
    assert info["layer_metadata"]["IDENTIFIER"] == LAYERS[layer_id].title.id


def test_geopackage_carries_live_status_as_typed_columns(conn: Connection, tmp_path: Path) -> None:
    path = written(conn, tmp_path, Format.GPKG, "das_stations")
    frame = pyogrio.read_dataframe(path, layer="das_stations")
    expected: dict[str, str] = dict(
        conn.execute(
            text("SELECT a.external_id, s.status FROM assets a JOIN asset_status s ON s.asset_id = a.id "
                 "WHERE a.layer_id = 'das_stations'")
        ).all()
    )  # fmt: skip
    assert dict(zip(frame["external_id"], frame["status"], strict=True)) == expected
    assert str(frame["observed_at"].dtype).startswith("datetime64") and frame["stale"].dtype == bool


def test_layer_styles_row_is_qml_naming_the_layer(conn: Connection, tmp_path: Path) -> None:
    path = written(conn, tmp_path, Format.GPKG, "das_stations")
    with closing(sqlite3.connect(path)) as db:
        row = db.execute(
            "SELECT f_table_name, styleName, styleQML, styleSLD, useAsDefault FROM layer_styles"
        ).fetchone()
    table, name, qml, sld, default = row
    assert (table, name, default) == ("das_stations", "Pos duga air (DAS)", 1)
    renderer = ET.fromstring(qml).find("renderer-v2")  # noqa: S314 - our own style
    assert (
        renderer is not None
        and renderer.get("type") == "categorizedSymbol"
        and renderer.get("attr") == "status"
    )
    values = [c.get("value") for c in renderer.iter("category")]
    assert values == ["normal", "waspada", "siaga", "awas", ""]
    assert ET.fromstring(sld.split("?>", 1)[1]).tag.endswith("StyledLayerDescriptor")  # noqa: S314


def test_several_layers_share_one_geopackage(conn: Connection, tmp_path: Path) -> None:
    path = written(conn, tmp_path, Format.GPKG, "cctv", "districts", "das_stations")
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"cctv", "districts", "das_stations", "layer_styles"}
    with closing(sqlite3.connect(path)) as db:
        styled = {r[0] for r in db.execute("SELECT f_table_name FROM layer_styles")}
    assert styled == {"cctv", "districts", "das_stations"}


def test_shapefile_archive_opens_with_gdal(conn: Connection, tmp_path: Path) -> None:
    path = written(conn, tmp_path, Format.SHP, "das_stations")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert archive.read("das_stations.cpg").decode().strip() == "UTF-8"
    assert {"das_stations.shp", "das_stations.prj", "das_stations.qml", "fields.csv"} <= names
    info = pyogrio.read_info(f"/vsizip/{path}/das_stations.shp")
    assert info["features"] == count(conn, "das_stations") and info["geometry_type"] == "Point"
    assert info["crs"] == "EPSG:4326"
    assert all(len(f) <= 10 for f in info["fields"])


def test_shapefile_fields_file_maps_every_field_once(conn: Connection, tmp_path: Path) -> None:
    path = written(conn, tmp_path, Format.SHP, "taxpayers")
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("fields.csv").decode().splitlines()[1:]
    mapping = dict(line.split(",")[:2] for line in lines)
    info = pyogrio.read_info(f"/vsizip/{path}/taxpayers.shp")
    assert list(mapping.values()) == list(info["fields"])
    assert len({v.casefold() for v in mapping.values()}) == len(mapping)
    assert mapping["tapping_box_id"] == "tapping_bo" and mapping["status_value"] == "status_val"


@pytest.mark.parametrize(("fmt", "geometry_type"), [(Format.GEOJSON, "Point"), (Format.KML, "Unknown")])
def test_streamed_formats_open_with_gdal(
    conn: Connection, tmp_path: Path, fmt: Format, geometry_type: str
) -> None:
    path = written(conn, tmp_path, fmt, "cctv")
    info = pyogrio.read_info(path)
    assert info["features"] == count(conn, "cctv") and info["crs"] == "EPSG:4326"
    assert info["geometry_type"] == geometry_type
    assert {"external_id", "camera_id", "status", "stale"} <= set(info["fields"])


def test_csv_holds_wkt_and_lon_lat(conn: Connection, tmp_path: Path) -> None:
    path = written(conn, tmp_path, Format.CSV, "cctv")
    frame = pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
    assert len(frame) == count(conn, "cctv")
    assert ((frame.geometry.x - frame["lon"].astype(float)).abs() < 1e-6).all()
    assert {"id", "external_id", "status", "observed_at"} <= set(frame.columns)


def test_xlsx_opens_with_gdal(conn: Connection, tmp_path: Path) -> None:
    frame = pyogrio.read_dataframe(written(conn, tmp_path, Format.XLSX, "das_stations"))
    assert len(frame) == count(conn, "das_stations")
    assert {"id", "station_code", "status", "status_value", "wkt", "lon", "lat"} <= set(frame.columns)


def test_geojson_is_one_valid_document(conn: Connection, tmp_path: Path) -> None:
    document = json.loads(written(conn, tmp_path, Format.GEOJSON, "districts").read_text())
    assert len(document["features"]) == count(conn, "districts")
    assert {f["geometry"]["type"] for f in document["features"]} <= {"Polygon", "MultiPolygon"}
