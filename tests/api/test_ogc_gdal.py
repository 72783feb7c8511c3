"""GDAL's OGC API – Features driver against a running kendali: the client GIS staff actually use."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import Connection, text

GDAL_ENV = {"GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF", "GDAL_HTTP_MAX_RETRY": "0"}


def _run(*args: str) -> str:
    result = subprocess.run(
        list(args), capture_output=True, text=True, timeout=300, check=False, env=GDAL_ENV
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_ogrinfo_lists_public_collections_only(server_url: str) -> None:
    out = _run("ogrinfo", "-ro", "-q", f"OAPIF:{server_url}/")
    names = set(re.findall(r"^\d+: (\w+)", out, re.MULTILINE))
    assert {"cctv", "dumping_points", "districts", "das_stations"} <= names
    assert "taxpayers" not in names and "city_apps" not in names


def test_ogr_reads_a_whole_layer_across_pages(server_url: str, tmp_path: Path, conn: Connection) -> None:
    target = tmp_path / "tps.geojson"
    _run(
        "ogr2ogr",
        "-f",
        "GeoJSON",
        str(target),
        f"OAPIF:{server_url}/",
        "dumping_points",
        "-oo",
        "PAGE_SIZE=70",
    )
    features = json.loads(target.read_text())["features"]
    expected = conn.execute(
        text("SELECT count(*) FROM assets WHERE layer_id = 'dumping_points'")
    ).scalar_one()
    assert len(features) == expected
    assert len({f["properties"]["external_id"] for f in features}) == expected


def test_ogrinfo_feature_count_is_number_matched(server_url: str) -> None:
    out = _run("ogrinfo", "-ro", "-so", f"OAPIF:{server_url}/", "cctv")
    assert re.search(r"Feature Count: 150\b", out), out


def test_ogr_spatial_filter_matches_postgis(server_url: str, tmp_path: Path, conn: Connection) -> None:
    bbox = (128.16, -3.72, 128.20, -3.68)
    target = tmp_path / "cams.geojson"
    _run("ogr2ogr", "-f", "GeoJSON", str(target), f"OAPIF:{server_url}/", "cctv", "-spat", *map(str, bbox))
    got = {f["properties"]["external_id"] for f in json.loads(target.read_text())["features"]}
    expected = set(
        conn.execute(
            text(
                "SELECT external_id FROM assets WHERE layer_id = 'cctv' "
                "AND ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))"
            ),
            dict(zip("abcd", bbox, strict=True)),
        ).scalars()
    )
    assert expected and got == expected


@pytest.mark.parametrize("layer", ["dumping_points", "districts", "rivers"])
def test_ogr2ogr_copies_a_layer_to_geopackage(
    server_url: str, tmp_path: Path, conn: Connection, layer: str
) -> None:
    target = tmp_path / f"{layer}.gpkg"
    _run("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{server_url}/", layer)
    frame = pyogrio.read_dataframe(target)
    rows = conn.execute(
        text("SELECT external_id, name, ST_AsText(geom) AS wkt FROM assets WHERE layer_id = :l"), {"l": layer}
    ).all()
    assert len(frame) == len(rows)
    by_id = {r.external_id: r for r in rows}
    from shapely import wkt

    for _, feature in frame.iterrows():
        stored = by_id[feature["external_id"]]
        assert feature["name"] == stored.name
        assert feature.geometry.equals_exact(wkt.loads(stored.wkt), tolerance=1e-6)
