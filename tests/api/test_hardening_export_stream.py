"""A streamed export either completes or visibly fails: early errors are problem bodies, late ones abort."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from layers.catalog import LAYERS
from layers.export.rows import CHUNK_ROWS
from tests._server import free_port, kendali_server

LAYER = "das_stations"
UTM_52S = "http://www.opengis.net/def/crs/EPSG/0/32752"
# A valid lon/lat that UTM 52S cannot project (a quarter of the world west of its zone): PostGIS fails
# on this row only, so where it sorts decides whether the export fails before or after its first bytes.
UNPROJECTABLE = (39.0, 0.0)
FILL = """
INSERT INTO assets (layer_id, external_id, name, geom, agency)
SELECT :layer, 'hardening-' || n, 'Stasiun uji ' || n, ST_SetSRID(ST_MakePoint(128.5, -3.0 - n * 1e-6), 4326),
       :agency
FROM generate_series(1, :rows) AS n
"""
FAR = """
INSERT INTO assets (layer_id, external_id, name, geom, agency)
VALUES (:layer, 'hardening-far', 'Stasiun jauh', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :agency)
"""


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server of this module's own, so that its log can be read."""
    log_path = tmp_path_factory.mktemp("stream") / "server.log"
    with kendali_server(database_url, free_port(), log_path, KENDALI_ALERT_CHECK_S="3600") as base:
        yield base, log_path


def _stored(engine: Engine, filler_rows: int) -> Iterator[None]:
    """Commit `filler_rows` stations, then one that cannot be projected (highest id); remove them after."""
    values = {"layer": LAYER, "agency": LAYERS[LAYER].owner}
    with engine.begin() as conn:
        if filler_rows:
            conn.execute(text(FILL), values | {"rows": filler_rows})
        conn.execute(text(FAR), values | dict(zip(("lon", "lat"), UNPROJECTABLE, strict=True)))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM assets WHERE layer_id = :layer AND external_id LIKE 'hardening-%'"), values
            )


@pytest.fixture
def unprojectable_first(engine: Engine) -> Iterator[None]:
    """The unprojectable station among the export's first rows."""
    yield from _stored(engine, 0)


@pytest.fixture
def unprojectable_later(engine: Engine) -> Iterator[None]:
    """The unprojectable station after the export's first chunk of rows."""
    yield from _stored(engine, CHUNK_ROWS)


def _read(base: str, fmt: str) -> tuple[httpx.Response, bytes, bool]:
    """Return the response, the body bytes received, and whether the transfer ended cleanly."""
    params = {"f": fmt, "crs": UTM_52S}
    received = bytearray()
    with httpx.stream("GET", f"{base}/collections/{LAYER}/export", params=params, timeout=120) as response:
        try:
            for part in response.iter_raw():
                received += part
        except httpx.RemoteProtocolError:
            return response, bytes(received), False
    return response, bytes(received), True


@pytest.mark.usefixtures("unprojectable_first")
@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_an_export_failing_on_its_first_rows_is_a_problem_body(server: tuple[str, Path], fmt: str) -> None:
    response, body, clean = _read(server[0], fmt)
    assert response.status_code == 400 and clean
    assert response.headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["code"] == "outside_crs_area"


@pytest.mark.usefixtures("unprojectable_later")
def test_a_csv_export_failing_midway_aborts_and_ends_unfinished(server: tuple[str, Path]) -> None:
    base, log_path = server
    response, body, clean = _read(base, "csv")
    assert response.status_code == 200 and not clean  # the chunked body never gets its last chunk
    text_ = body.decode("utf-8-sig")
    assert text_.count("\r\n") == CHUNK_ROWS + 1  # header and the first chunk of rows, no more
    assert not text_.endswith("\r\n")
    with pytest.raises(csv.Error, match="unexpected end of data"):
        list(csv.reader(io.StringIO(text_, newline=""), strict=True))
    assert f"export of {LAYER} as csv broke off after" in log_path.read_text()


@pytest.mark.usefixtures("unprojectable_later")
def test_a_geojson_export_failing_midway_aborts_unclosed(server: tuple[str, Path]) -> None:
    response, body, clean = _read(server[0], "geojson")
    assert response.status_code == 200 and not clean
    assert body.count(b'"type": "Feature"') == CHUNK_ROWS and not body.rstrip().endswith(b"]}")
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
