"""cameras_seeing: checked against shapely `covers`/`intersects` on the raw field-of-view polygons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import shapely
from pyproj import Geod
from sqlalchemy import Connection, func, select

from layers.access.policy import ANONYMOUS, Principal, principal_for
from layers.errors import InvalidInput
from layers.queries.catalog import QUERIES
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.tables import assets

SPEC = QUERIES["cameras_seeing"]
BPBD = principal_for("bpbd-op", ["bpbd-operator"], kind="user")
GEOD = Geod(ellps="WGS84")


def first_asset(conn: Connection, layer_id: str) -> tuple[int, str]:
    """Return the id and external id of the layer's first asset."""
    query = (
        select(assets.c.id, assets.c.external_id).where(assets.c.layer_id == layer_id).order_by(assets.c.id)
    )
    row = conn.execute(query.limit(1)).one()
    return int(row.id), str(row.external_id)


def answer(
    conn: Connection, values: dict[str, Any], principal: Principal = BPBD
) -> tuple[list[Any], list[str]]:
    built = SPEC.build(QueryContext(conn, principal, datetime.now(UTC)), parse_params(SPEC.params, values))
    return list(conn.execute(built.statement)), [c.name for c in built.columns]


def footprints(conn: Connection) -> dict[int, shapely.Geometry]:
    query = select(assets.c.id, func.ST_AsBinary(assets.c.footprint)).where(assets.c.layer_id == "cctv")
    return {int(i): shapely.from_wkb(wkb) for i, wkb in conn.execute(query)}


def most_watched_point(views: dict[int, shapely.Geometry]) -> shapely.Point:
    """Return the footprint centroid that the most cameras cover."""
    centroids = [fp.centroid for fp in views.values()]
    return max(centroids, key=lambda p: sum(fp.covers(p) for fp in views.values()))


def test_point_under_several_cameras_matches_shapely_covers(conn: Connection) -> None:
    views = footprints(conn)
    point = most_watched_point(views)
    rows, _ = answer(conn, {"point": f"{point.x},{point.y}"})
    expected = {i for i, fp in views.items() if fp.covers(point)}
    assert {r.id for r in rows} == expected and len(expected) >= 2
    for r in rows:
        lon, lat = shapely.from_wkb(bytes(r.geom.data)).coords[0]
        assert r.distance_m == pytest.approx(GEOD.inv(lon, lat, point.x, point.y)[2], abs=0.01)


def test_dumping_point_as_asset_place(conn: Connection) -> None:
    views = footprints(conn)
    query = select(assets.c.id, func.ST_AsBinary(assets.c.geom)).where(assets.c.layer_id == "dumping_points")
    places = {int(i): shapely.from_wkb(wkb) for i, wkb in conn.execute(query)}
    seen = {i: {c for c, fp in views.items() if fp.covers(p)} for i, p in places.items()}
    watched = max(seen, key=lambda i: len(seen[i]))
    rows, _ = answer(conn, {"asset_id": watched})
    assert {r.id for r in rows} == seen[watched] and seen[watched]


@pytest.mark.parametrize("kind", ["district", "geometry"])
def test_area_matches_shapely_intersects(conn: Connection, kind: str) -> None:
    district_id, code = first_asset(conn, "villages")
    query = select(func.ST_AsBinary(assets.c.geom)).where(assets.c.id == district_id)
    area = shapely.from_wkb(conn.execute(query).scalar_one())
    if kind == "geometry":
        area = shapely.buffer(area.centroid, 0.004)
    rows, _ = answer(conn, {kind: code if kind == "district" else area.wkt})
    expected = {i for i, fp in footprints(conn).items() if fp.intersects(area)}
    assert {r.id for r in rows} == expected and expected
    assert all(r.distance_m >= 0 for r in rows)


def test_point_nobody_sees_returns_nothing(conn: Connection) -> None:
    views = footprints(conn)
    point = shapely.Point(128.30, -3.78)
    assert not any(fp.covers(point) for fp in views.values())
    rows, _ = answer(conn, {"point": f"{point.x},{point.y}"})
    assert rows == []


def test_stream_url_only_for_those_who_may_see_it(conn: Connection) -> None:
    point = most_watched_point(footprints(conn))
    rows, columns = answer(conn, {"point": f"{point.x},{point.y}"})
    assert "stream_url" in columns and all(r.stream_url for r in rows)
    _, public_columns = answer(conn, {"point": f"{point.x},{point.y}"}, ANONYMOUS)
    assert "stream_url" not in public_columns and "view_direction_deg" in public_columns


def test_caller_scoped_away_from_cctv_sees_no_camera(conn: Connection) -> None:
    point = most_watched_point(footprints(conn))
    scoped = principal_for("key", ["bpbd-operator"], kind="key", scope=["cameras_seeing"])
    rows, _ = answer(conn, {"point": f"{point.x},{point.y}"}, scoped)
    assert rows == []


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({}, "parameters"),
        ({"point": "128.18,-3.7", "district": "81.71.01"}, "parameters"),
        ({"point": "128.18"}, "point"),
        ({"asset_id": "x"}, "asset_id"),
        ({"district": "nowhere"}, "district"),
        ({"point": "128.18,-3.7", "radius": "5"}, "radius"),
    ],
)
def test_bad_parameters_are_400s_in_both_languages(
    conn: Connection, values: dict[str, Any], name: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        answer(conn, values)
    assert caught.value.details["parameter"] == name
    assert caught.value.message_en != caught.value.message_id
