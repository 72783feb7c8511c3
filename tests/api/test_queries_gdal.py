"""GDAL's OGC API – Features driver opens a query layer with its parameters, as QGIS users would."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import shapely
from sqlalchemy import Engine, text

from layers.access.auth import create_key

AREA = shapely.box(128.15, -3.72, 128.22, -3.66).wkt


@pytest.fixture
def staff_key(engine: Engine) -> Iterator[str]:
    """A committed API key for a BPBD operator (the server sees only committed data)."""
    with engine.begin() as conn:
        key = create_key(conn, "gdal-queries", ["bpbd-operator"])
    yield key.secret
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_keys WHERE id = :i"), {"i": key.id})


def test_ogr2ogr_reads_a_whole_query_answer_across_pages(
    server_url: str, staff_key: str, tmp_path: Path
) -> None:
    source = f"OAPIF:{server_url}/collections/in_area?geometry={quote(AREA)}&layers=cctv,dumping_points"
    target = tmp_path / "in_area.geojson"
    env = {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {staff_key}", "GDAL_HTTP_TIMEOUT": "60"}
    result = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", str(target), source, "in_area", "-oo", "PAGE_SIZE=40"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    read = json.loads(target.read_text())["features"]
    answer = httpx.get(
        f"{server_url}/collections/in_area/items",
        params={"geometry": AREA, "layers": "cctv,dumping_points", "limit": 10000},
        headers={"Authorization": f"Bearer {staff_key}"},
        timeout=60,
    ).json()
    assert len(read) == answer["numberMatched"] > 40
    assert sorted(f["properties"]["external_id"] for f in read) == sorted(
        f["properties"]["external_id"] for f in answer["features"]
    )
    assert {f["properties"]["layer"] for f in read} == {"cctv", "dumping_points"}
