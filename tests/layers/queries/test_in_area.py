"""in_area: the assets inside an area, checked against shapely on the raw rows, and its summary."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, func, insert, select, update

from layers.access.policy import Principal, principal_for
from layers.errors import InvalidInput
from layers.live.status import StatusReport, write_reports
from layers.queries.catalog import QUERIES
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.tables import areas, asset_status, assets

SPEC = QUERIES["in_area"]
BPBD = principal_for("bpbd-op", ["bpbd-operator"], kind="user")
DLHP = principal_for("dlhp-op", ["dlhp-operator"], kind="user")
KOMINFO = principal_for("kominfo-op", ["kominfo-operator"], kind="user")
BPPRD = principal_for("bpprd-an", ["bpprd-analyst"], kind="user")
STAFF_LAYERS = ("cctv", "traffic_junctions", "dumping_points", "das_stations", "city_apps")
POLYGON = "POLYGON((128.15 -3.72,128.20 -3.72,128.21 -3.68,128.16 -3.67,128.15 -3.72))"


def first_asset(conn: Connection, layer_id: str) -> tuple[int, str]:
    """Return the id and external id of the layer's first asset."""
    query = (
        select(assets.c.id, assets.c.external_id).where(assets.c.layer_id == layer_id).order_by(assets.c.id)
    )
    row = conn.execute(query.limit(1)).one()
    return int(row.id), str(row.external_id)


def insert_area(conn: Connection, wkt: str) -> int:
    """Insert a response area as BPBD would draw it; return its id."""
    values = {"hazard": "banjir", "state": "active"}
    return int(
        conn.execute(
            insert(areas)
            .values(layer_id="response_areas", name="Banjir uji", geom=func.ST_GeomFromText(wkt, 4326))
            .values(properties=values, agency="bpbd", created_by="test", updated_by="test")
            .returning(areas.c.id)
        ).scalar_one()
    )


def run(conn: Connection, principal: Principal, values: dict[str, Any]) -> list[Any]:
    params = parse_params(SPEC.params, values)
    return list(conn.execute(SPEC.build(QueryContext(conn, principal, datetime.now(UTC)), params).statement))


def summarise(conn: Connection, principal: Principal, values: dict[str, Any]) -> dict[str, Any]:
    assert SPEC.summary is not None
    return SPEC.summary(QueryContext(conn, principal, datetime.now(UTC)), parse_params(SPEC.params, values))


def raw_points(conn: Connection, layer_ids: tuple[str, ...]) -> dict[int, tuple[str, shapely.Point]]:
    rows = conn.execute(
        select(assets.c.id, assets.c.layer_id, func.ST_AsBinary(assets.c.geom)).where(
            assets.c.layer_id.in_(layer_ids)
        )
    )
    return {int(i): (layer, shapely.from_wkb(wkb)) for i, layer, wkb in rows}


def raw_shape(conn: Connection, table: Any, row_id: int) -> shapely.Geometry:
    query = select(func.ST_AsBinary(table.c.geom)).where(table.c.id == row_id)
    return shapely.from_wkb(conn.execute(query).scalar_one())


def expected_inside(conn: Connection, area: shapely.Geometry, layer_ids: tuple[str, ...]) -> set[int]:
    return {i for i, (_, point) in raw_points(conn, layer_ids).items() if area.intersects(point)}


def test_posted_polygon_holds_what_shapely_finds(conn: Connection) -> None:
    rows = run(conn, BPBD, {"geometry": POLYGON})
    expected = expected_inside(conn, shapely.from_wkt(POLYGON), STAFF_LAYERS)
    assert {r.id for r in rows} == expected and len(rows) == len(expected) > 20
    points = raw_points(conn, STAFF_LAYERS)
    assert all(
        r.layer == points[r.id][0] and shapely.from_wkb(bytes(r.geom.data)).equals(points[r.id][1])
        for r in rows
    )


@pytest.mark.parametrize("by", ["external_id", "id"])
def test_district_holds_what_shapely_finds(conn: Connection, by: str) -> None:
    district_id, code = first_asset(conn, "districts")
    rows = run(conn, BPBD, {"district": code if by == "external_id" else str(district_id)})
    expected = expected_inside(conn, raw_shape(conn, assets, district_id), STAFF_LAYERS)
    assert {r.id for r in rows} == expected and expected


def test_response_area_holds_what_shapely_finds(conn: Connection) -> None:
    area_id = insert_area(conn, POLYGON)
    rows = run(conn, BPBD, {"area_id": area_id, "layers": "cctv,dumping_points"})
    expected = expected_inside(conn, raw_shape(conn, areas, area_id), ("cctv", "dumping_points"))
    assert {r.id for r in rows} == expected and expected


def test_summary_counts_equal_the_rows_and_the_raw_status(conn: Connection) -> None:
    first, second = run(conn, BPBD, {"geometry": POLYGON, "layers": "cctv"})[:2]
    report = StatusReport("offline", datetime.now(UTC), "test", asset_id=first.id)
    assert write_reports(conn, KOMINFO, [report])[0].outcome == "accepted"
    silent_since = datetime.now(UTC) - timedelta(hours=2)
    conn.execute(
        update(asset_status).where(asset_status.c.asset_id == second.id).values(observed_at=silent_since)
    )
    rows = run(conn, BPBD, {"geometry": POLYGON})
    summary = summarise(conn, BPBD, {"geometry": POLYGON})
    statuses = dict(conn.execute(select(asset_status.c.asset_id, asset_status.c.status)).all())
    assert summary["total"] == len(rows)
    for entry in summary["layers"]:
        ids = [r.id for r in rows if r.layer == entry["layer"]]
        assert entry["count"] == len(ids)
        counted = Counter(statuses[i] for i in ids if i in statuses)
        assert {k: v for k, v in entry["by_status"].items() if v} == dict(counted)
        assert entry["stale"] == sum(1 for r in rows if r.layer == entry["layer"] and r.stale)
    cctv = next(e for e in summary["layers"] if e["layer"] == "cctv")
    assert cctv["title"] == {"id": "Kamera CCTV", "en": "CCTV cameras"} and cctv["stale"] >= 1


def test_summary_area_and_districts_match_pyproj_and_shapely(conn: Connection) -> None:
    area = shapely.from_wkt(POLYGON)
    summary = summarise(conn, BPBD, {"geometry": POLYGON})["area"]
    to_utm = Transformer.from_crs(4326, 32752, always_xy=True)
    assert summary["area_ha"] == pytest.approx(
        shapely.transform(area, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))).area / 1e4,
        rel=1e-6,
    )
    districts = {
        str(name): shapely.from_wkb(wkb)
        for name, wkb in conn.execute(
            select(assets.c.name, func.ST_AsBinary(assets.c.geom)).where(assets.c.layer_id == "districts")
        )
    }
    touched = sorted(n for n, d in districts.items() if d.intersects(area) and not d.touches(area))
    assert summary["districts"] == touched and touched
    villages = raw_points_or_polygons(conn, "villages")
    assert summary["villages_touched"] == sum(
        1 for v in villages if v.intersects(area) and not v.touches(area)
    )


def raw_points_or_polygons(conn: Connection, layer_id: str) -> list[shapely.Geometry]:
    query = select(func.ST_AsBinary(assets.c.geom)).where(assets.c.layer_id == layer_id)
    return [shapely.from_wkb(wkb) for wkb in conn.scalars(query)]


def test_taxpayers_only_for_those_who_may_read_them(conn: Connection) -> None:
    assert "taxpayers" not in {r.layer for r in run(conn, DLHP, {"geometry": POLYGON})}
    with pytest.raises(InvalidInput) as caught:
        run(conn, DLHP, {"geometry": POLYGON, "layers": "cctv,taxpayers"})
    assert "taxpayers" in caught.value.message_en and "taxpayers" in caught.value.message_id
    rows = run(conn, BPPRD, {"geometry": POLYGON})
    expected = expected_inside(conn, shapely.from_wkt(POLYGON), ("taxpayers",))
    assert {r.id for r in rows if r.layer == "taxpayers"} == expected and expected


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"point": "128.18,-3.7"}, "point"),
        ({"geometry": "POINT(128.18 -3.7)"}, "geometry"),
        ({"geometry": "LINESTRING(128.18 -3.7,128.19 -3.7)"}, "geometry"),
        ({"geometry": POLYGON, "layers": "rivers"}, "layers"),
        ({"geometry": POLYGON, "layers": "response_areas"}, "layers"),
        ({"geometry": POLYGON, "layers": "nope"}, "layers"),
        ({"geometry": POLYGON, "layers": ",".join(["cctv"] * 3 + [f"l{i}" for i in range(17)])}, "layers"),
        ({"layers": "cctv"}, "parameters"),
        ({"geometry": POLYGON, "district": "81.71.01"}, "parameters"),
        ({"area_id": "-1"}, "area_id"),
    ],
)
def test_bad_parameters_are_400s_in_both_languages(
    conn: Connection, values: dict[str, Any], name: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(conn, BPBD, values)
    assert caught.value.details["parameter"] == name
    assert (
        caught.value.message_en
        and caught.value.message_id
        and caught.value.message_en != caught.value.message_id
    )
