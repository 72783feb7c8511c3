"""A bbox selects exactly the points that lie in it, even those within a metre of an edge."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

ITEMS = "/collections/dumping_points/items"


def _f32(value: float) -> float:
    """Return the float4 nearest `value`: a bbox edge the float4 boxes of `&&` hold without rounding."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


X0, Y0, X1, Y1 = _f32(128.2331), _f32(-3.6512), _f32(128.2342), _f32(-3.6503)
DX, DY = 2.0**-17, 2.0**-23  # half a float4 step at lon 128 (~0.85 m) and at lat -3.65 (~1.3 cm)
XM, YM = (X0 + X1) / 2, (Y0 + Y1) / 2
POINTS = {
    "out-west": (X0 - DX, YM),
    "out-east": (X1 + DX, YM),
    "out-south": (XM, Y0 - DY),
    "out-north": (XM, Y1 + DY),
    "in-west": (X0 + DX, YM),
    "in-east": (X1 - DX, YM),
    "in-south": (XM, Y0 + DY),
    "in-north": (XM, Y1 - DY),
    "in-on-edge": (X0, YM),
}
MULTIPOINTS = {  # the point family also holds MultiPoints
    "in-multi": f"MULTIPOINT(({XM} {YM}), ({X1 + 0.01} {YM}))",
    "out-multi-straddling": f"MULTIPOINT(({X0 - DX} {Y0 - DY}), ({X1 + DX} {Y1 + DY}))",
}
EXACT = text(
    "SELECT id FROM assets WHERE layer_id = 'dumping_points' "
    "AND ST_Intersects(geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"
)
LOOSE = text(
    "SELECT count(*) FROM assets WHERE layer_id = 'dumping_points' "
    "AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
)
BOX = {"x0": X0, "y0": Y0, "x1": X1, "y1": Y1}


@dataclass(frozen=True)
class EdgeCase:
    """The points placed around the bbox, and the ids ST_Intersects finds in it."""

    names: dict[int, str]
    intersecting: set[int]


def _insert(conn: Connection, name: str, wkt: str) -> int:
    row_id: int = conn.execute(
        text(
            "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency) VALUES "
            "('dumping_points', :name, :name, ST_GeomFromText(:wkt, 4326), "
            '\'{"tps_type": "tps", "capacity_m3": 6}\', \'dlhp\') RETURNING id'
        ),
        {"name": f"EDGE-{name}", "wkt": wkt},
    ).scalar_one()
    return row_id


@pytest.fixture
def edges(conn: Connection) -> EdgeCase:
    """Points just inside and just outside each edge (within 1 m), in the test's rolled-back transaction."""
    wkts = {name: f"POINT({x} {y})" for name, (x, y) in POINTS.items()} | MULTIPOINTS
    names = {_insert(conn, name, wkt): name for name, wkt in wkts.items()}
    exact = set(conn.execute(EXACT, BOX).scalars())
    assert conn.execute(LOOSE, BOX).scalar_one() > len(
        exact
    )  # the float4 boxes of `&&` do take the points outside
    assert {names[i] for i in exact if i in names} == {n for n in wkts if n.startswith("in-")}
    return EdgeCase(names, exact)


def _bbox() -> str:
    return ",".join(repr(v) for v in (X0, Y0, X1, Y1))


def test_items_in_bbox_are_exactly_the_intersecting_points(client: TestClient, edges: EdgeCase) -> None:
    body = client.get(ITEMS, params={"bbox": _bbox(), "limit": 1000}).json()
    assert body["numberMatched"] == len(edges.intersecting) == body["numberReturned"]
    assert {f["id"] for f in body["features"]} == edges.intersecting


def test_counts_in_bbox_are_exactly_the_intersecting_points(client: TestClient, edges: EdgeCase) -> None:
    body = client.get("/collections/dumping_points/counts", params={"bbox": _bbox()}).json()
    assert body["total"] == len(edges.intersecting)
