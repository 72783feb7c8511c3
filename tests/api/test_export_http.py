"""Exports and the QGIS project over HTTP: files opened with GDAL, access rules, and live data sources."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pyogrio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.routes import export
from api.settings import ApiSettings
from layers.access.auth import create_key
from layers.access.policy import principal_for
from layers.settings import DatabaseSettings

EXTENSIONS = {
    "gpkg": "gpkg",
    "shp": "shp.zip",
    "geojson": "geojson",
    "csv": "csv",
    "kml": "kml",
    "xlsx": "xlsx",
}


@pytest.fixture(scope="module")
def api(database_url: str, server_url: str) -> Iterator[TestClient]:
    """The app with the export router, telling clients the real server's address as its own."""
    settings = ApiSettings(db=DatabaseSettings(url=database_url), public_url=server_url)
    app = create_app(settings)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def bpprd(engine: Engine) -> Iterator[dict[str, str]]:
    """A committed BPPRD analyst key (deleted afterwards)."""
    with engine.begin() as conn:
        key = create_key(conn, "export-test", ["bpprd-analyst"])
    yield {"Authorization": f"Bearer {key.secret}"}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_keys WHERE id = :i"), {"i": key.id})


def _saved(tmp_path: Path, content: bytes, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return f"/vsizip/{path}/das_stations.shp" if name.endswith(".zip") else str(path)


@pytest.mark.parametrize("fmt", list(EXTENSIONS))
def test_export_opens_with_gdal(api: TestClient, tmp_path: Path, fmt: str) -> None:
    response = api.get("/collections/das_stations/export", params={"f": fmt})
    assert response.status_code == 200, response.text
    name = f"das_stations.{EXTENSIONS[fmt]}"
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    options = (
        {"layer": "das_stations"} if fmt == "gpkg" else {"GEOM_POSSIBLE_NAMES": "wkt"} if fmt == "csv" else {}
    )
    info = pyogrio.read_info(_saved(tmp_path, response.content, name), **options)
    assert info["features"] == 15
    assert {"river_code", "status", "waspada_cm"} <= set(info["fields"])


def test_several_collections_export_into_one_geopackage(api: TestClient, tmp_path: Path) -> None:
    response = api.get(
        "/export", params={"collections": "cctv,districts", "f": "gpkg", "bbox": "128,-4,129,-3"}
    )
    assert response.status_code == 200, response.text
    path = _saved(tmp_path, response.content, "kendali.gpkg")
    assert {n for n, _ in pyogrio.list_layers(path)} == {"cctv", "districts", "layer_styles"}
    assert pyogrio.read_info(path, layer="cctv")["features"] == 150


@pytest.mark.parametrize("fmt", ["gpkg", "csv", "kml"])
def test_anonymous_export_of_taxpayers_is_not_found(api: TestClient, fmt: str) -> None:
    response = api.get("/collections/taxpayers/export", params={"f": fmt})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_anonymous_cannot_slip_taxpayers_into_a_geopackage(api: TestClient) -> None:
    response = api.get("/export", params={"collections": "cctv,taxpayers", "f": "gpkg"})
    assert response.status_code == 404


def test_bpprd_analyst_exports_taxpayers(api: TestClient, bpprd: dict[str, str]) -> None:
    response = api.get("/collections/taxpayers/export", params={"f": "csv"}, headers=bpprd)
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 1500 and "tax_rate_pct" in lines[0]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/collections/cctv/export", {"f": "exe"}),
        ("/collections/cctv/export", {"f": "csv", "bbox": "1,2,3"}),
        ("/collections/cctv/export", {"f": "csv", "colour": "red"}),
        ("/collections/cctv/export", {"f": "csv", "cursor": "n5"}),
        ("/collections/cctv/export", {"f": "csv", "filter": "nope = = 1"}),
        ("/export", {"collections": "cctv,districts", "f": "csv"}),
    ],
)
def test_export_refuses_bad_parameters(api: TestClient, path: str, params: dict[str, str]) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_export_matches_the_items_path(api: TestClient) -> None:
    params = {"bbox": "128.15,-3.72,128.20,-3.68", "filter": "status = 'online'"}
    matched = api.get("/collections/cctv/items", params=params).json()["numberMatched"]
    body = api.get("/collections/cctv/export", params={**params, "f": "geojson"}).json()
    assert len(body["features"]) == matched > 0
    assert {f["properties"]["status"] for f in body["features"]} == {"online"}


def _sources(document: str) -> list[tuple[str, str]]:
    root = ET.fromstring(document)  # noqa: S314 - our own server's document
    return [(m.findtext("provider") or "", m.findtext("datasource") or "") for m in root.iter("maplayer")]


def _uri(datasource: str) -> dict[str, str]:
    return {k: v.replace("\\'", "'") for k, v in re.findall(r"(\w+)='((?:[^'\\]|\\.)*)'", datasource)}


def test_project_feature_sources_answer_from_the_server(api: TestClient, server_url: str) -> None:
    """Every OAPIF source answers 200; tile sources are checked for shape (tiles are another route)."""
    sources = _sources(api.get("/qgis/project.qgs").text)
    oapif = [_uri(s) for p, s in sources if p == "OAPIF"]
    assert {u["typename"] for u in oapif} >= {"cctv", "districts", "das_stations"}
    for uri in oapif:
        assert uri["url"] == server_url
        assert (
            httpx.get(f"{uri['url']}/collections/{uri['typename']}/items", params={"limit": 1}).status_code
            == 200
        )
    for provider, source in sources:
        if provider == "xyzvectortiles":
            url = parse_qs(source)["url"][0]
            assert re.fullmatch(re.escape(server_url) + r"/tiles/[a-z_]+/\{z\}/\{x\}/\{y\}\.mvt", url), url


def test_project_for_bpprd_reaches_taxpayers_without_holding_a_secret(
    api: TestClient, bpprd: dict[str, str]
) -> None:
    document = api.get("/qgis/project.qgs", headers=bpprd).text
    secret = bpprd["Authorization"].split()[1]
    assert secret not in document and secret[:12] not in document
    taxpayers = next(_uri(s) for p, s in _sources(document) if p == "OAPIF" and "'taxpayers'" in s)
    assert taxpayers["authcfg"] == "kendali"
    items = httpx.get(f"{taxpayers['url']}/collections/taxpayers/items", params={"limit": 1}, headers=bpprd)
    assert items.status_code == 200


def test_project_is_grouped_by_agency_in_utm_52s(api: TestClient) -> None:
    root = ET.fromstring(api.get("/qgis/project.qgs").text)  # noqa: S314 - our own server's document
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:32752"
    groups = {g.get("name"): g for g in root.iter("layer-tree-group") if g.get("name")}
    assert "Dinas Komunikasi, Informatika dan Persandian" in groups
    names = {layer.get("name") for layer in groups["Badan Penanggulangan Bencana Daerah"]}
    assert "Pos duga air (DAS)" in names
    assert "taxpayers" not in api.get("/qgis/project.qgs").text


def test_qgz_is_the_project_zipped(api: TestClient) -> None:
    response = api.get("/qgis/project.qgz")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        (name,) = archive.namelist()
        assert name.endswith(".qgs")
        assert ET.fromstring(archive.read(name)).tag == "qgis"  # noqa: S314 - our own document


def test_export_command_writes_what_the_route_would(engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "stations.gpkg"
    admin = principal_for("cli", ["admin"], kind="user")
    params = {"bbox": "128.15,-3.75,128.22,-3.66"}
    written = export.export_to_path(engine, admin, ["cctv", "districts"], "gpkg", params, target)
    with engine.connect() as conn:
        inside = conn.execute(
            text("SELECT count(*) FROM assets WHERE layer_id IN ('cctv', 'districts') "
                 "AND ST_Intersects(geom, ST_MakeEnvelope(128.15, -3.75, 128.22, -3.66, 4326))")
        ).scalar_one()  # fmt: skip
    counts = [pyogrio.read_info(target, layer=name)["features"] for name in ("cctv", "districts")]
    assert written == sum(counts) == inside and all(counts)


def test_openapi_documents_the_export_paths(api: TestClient) -> None:
    paths = api.get("/api").json()["paths"]
    assert {"/collections/{collection_id}/export", "/export", "/qgis/project.{extension}"} <= set(paths)


def test_export_travels_in_time_like_items(api: TestClient) -> None:
    params = {"at": (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds"), "limit": "100"}
    items = api.get("/collections/das_stations/items", params=params).json()["features"]
    exported = api.get("/collections/das_stations/export", params={**params, "f": "geojson"}).json()[
        "features"
    ]
    assert [f["properties"]["status"] for f in exported] == [f["properties"]["status"] for f in items]
    assert {f["properties"]["status"] for f in exported} != {None}
