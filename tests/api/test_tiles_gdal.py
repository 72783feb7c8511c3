"""GDAL's MVT driver reads kendali tiles: names, attributes, counts that agree with the feature API."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from geo.tiles import TMS, TileKey, bounds_3857, bounds_lonlat
from layers.access.policy import principal_for
from layers.live.events import recording
from layers.live.retire import retire_committed
from layers.live.status import StatusReport, write_reports
from layers.settings import DatabaseSettings
from layers.tiles.cache import CACHE


def _app(database_url: str) -> FastAPI:
    app = create_app(ApiSettings(db=DatabaseSettings(url=database_url)))  # type: ignore[arg-type]
    return app


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """An in-process client with the tile routes, sharing the test's rolled-back session."""
    CACHE.clear()
    app = _app(database_url)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


@pytest.fixture
def committed_client(database_url: str) -> Iterator[TestClient]:
    """An in-process client on its own connections: it sees only committed data, as a server does."""
    CACHE.clear()
    with TestClient(_app(database_url)) as c:
        yield c


def save(tmp_path: Path, key: TileKey, data: bytes) -> Path:
    """Save a tile where GDAL finds its z/x/y (from the path) to georeference it."""
    path = tmp_path / str(key.z) / str(key.x) / f"{key.y}.mvt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def fetch(client: TestClient, layers: str, key: TileKey, tmp_path: Path) -> Path:
    response = client.get(f"/tiles/{layers}/{key.z}/{key.x}/{key.y}.mvt")
    assert response.status_code == 200, response.text
    return save(tmp_path, key, response.content)


def tile_of_first(conn: Connection, layer: str, z: int) -> TileKey:
    sql = "SELECT ST_X(geom), ST_Y(geom) FROM assets WHERE layer_id = :l ORDER BY id LIMIT 1"
    lon, lat = conn.execute(text(sql), {"l": layer}).one()
    t = TMS.tile(lon, lat, z)
    return TileKey(t.z, t.x, t.y)


def test_ogrinfo_reads_layer_name_and_attributes(
    client: TestClient, conn: Connection, tmp_path: Path
) -> None:
    key = tile_of_first(conn, "cctv", 15)
    result = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-so", str(fetch(client, "cctv", key, tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert re.search(r"^Layer name: cctv$", result.stdout, re.MULTILINE)
    fields = set(re.findall(r"^(\w+): \w+", result.stdout, re.MULTILINE))
    assert {"mvt_id", "name", "external_id", "camera_id", "ptz", "status", "stale"} <= fields
    assert "stream_url" not in fields  # internal attribute, anonymous caller


def test_composite_tile_has_both_layers(client: TestClient, conn: Connection, tmp_path: Path) -> None:
    key = tile_of_first(conn, "dumping_points", 14)
    path = fetch(client, "dumping_points,districts", key, tmp_path)
    assert [name for name, _ in pyogrio.list_layers(path)] == ["dumping_points", "districts"]
    assert len(pyogrio.read_dataframe(path, layer="districts")) >= 1


def _inside(frame: Any, key: TileKey) -> set[int]:
    """Return the ids of features whose point lies in the tile itself (the buffer left out)."""
    west, south, east, north = bounds_3857(key)
    xs, ys = frame.geometry.x, frame.geometry.y
    return set(frame[(xs >= west) & (xs <= east) & (ys >= south) & (ys <= north)]["mvt_id"].astype(int))


@pytest.mark.parametrize(("layer", "z"), [("cctv", 14), ("dumping_points", 14), ("traffic_junctions", 13)])
def test_feature_count_per_tile_equals_the_feature_api(
    client: TestClient, conn: Connection, tmp_path: Path, layer: str, z: int
) -> None:
    key = tile_of_first(conn, layer, z)
    frame = pyogrio.read_dataframe(fetch(client, layer, key, tmp_path), layer=layer, CLIP="NO")
    assert "cluster" not in frame or frame["cluster"].isna().all()  # too few points here to cluster
    bbox = ",".join(f"{v:.12f}" for v in bounds_lonlat(key))
    items = client.get(f"/collections/{layer}/items", params={"bbox": bbox, "limit": 10000}).json()
    assert items["numberMatched"] > 0
    assert _inside(frame, key) == {f["id"] for f in items["features"]}


def _status_row(conn: Connection, asset_id: int) -> dict[str, Any]:
    row = (
        conn.execute(text("SELECT * FROM asset_status WHERE asset_id = :a"), {"a": asset_id}).mappings().one()
    )
    return dict(row)


def _restore(engine: Engine, asset_id: int, before: dict[str, Any], last_event: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM observations WHERE asset_id = :a AND source = 'tile-test'"), {"a": asset_id}
        )
        conn.execute(
            text(
                "UPDATE asset_status SET status = :status, value = :value, unit = :unit, "
                "observed_at = :observed_at, received_at = :received_at, source = :source "
                "WHERE asset_id = :asset_id"
            ),
            before,
        )
        conn.execute(text("DELETE FROM events WHERE id > :e"), {"e": last_event})


def test_status_change_changes_the_next_tile_and_its_etag(
    committed_client: TestClient, engine: Engine
) -> None:
    with engine.connect() as conn:
        asset_id = int(
            conn.execute(text("SELECT min(id) FROM assets WHERE layer_id = 'dumping_points'")).scalar_one()
        )
        key = tile_of_first(conn, "dumping_points", 16)
        before = _status_row(conn, asset_id)
        last_event = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM events")).scalar_one())
    path = f"/tiles/dumping_points/{key.z}/{key.x}/{key.y}.mvt"
    first = committed_client.get(path)
    report = StatusReport(
        status="overflow" if before["status"] != "overflow" else "empty",
        observed_at=datetime.now(UTC) + timedelta(seconds=1),
        source="tile-test",
        asset_id=asset_id,
    )
    try:
        with recording() as recorded, engine.begin() as conn:
            write_reports(conn, principal_for("k", ["dlhp-operator"], kind="key"), [report])
        retire_committed(recorded)  # what the write path's caller does once it has committed
        assert str(key) in recorded[0].payload["tiles"]["keys"]
        second = committed_client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert second.status_code == 200 and second.content != first.content
        assert second.headers["etag"] != first.headers["etag"]
    finally:
        _restore(engine, asset_id, before, last_event)
