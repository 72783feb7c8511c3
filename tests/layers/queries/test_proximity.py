"""within_distance and nearest, checked against pyproj's geodesic distances over the raw rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from sqlalchemy import Connection, func, select

from layers.access.policy import Principal, principal_for
from layers.errors import InvalidInput
from layers.queries.catalog import QUERIES
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.tables import assets

BPBD = principal_for("bpbd-op", ["bpbd-operator"], kind="user")
DLHP = principal_for("dlhp-op", ["dlhp-operator"], kind="user")
GEOD = Geod(ellps="WGS84")
BOUNDARY_M = 0.5
CENTRE = (128.18, -3.70)


def first_asset(conn: Connection, layer_id: str) -> tuple[int, str]:
    """Return the id and external id of the layer's first asset."""
    query = (
        select(assets.c.id, assets.c.external_id).where(assets.c.layer_id == layer_id).order_by(assets.c.id)
    )
    row = conn.execute(query.limit(1)).one()
    return int(row.id), str(row.external_id)


def run(conn: Connection, query_id: str, values: dict[str, Any], principal: Principal = BPBD) -> list[Any]:
    spec = QUERIES[query_id]
    answer = spec.build(QueryContext(conn, principal, datetime.now(UTC)), parse_params(spec.params, values))
    return list(conn.execute(answer.statement))


def raw_layer(conn: Connection, layer_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ids, lons and lats of every asset of a point layer."""
    query = select(assets.c.id, func.ST_X(assets.c.geom), func.ST_Y(assets.c.geom)).where(
        assets.c.layer_id == layer_id
    )
    ids, lons, lats = zip(*conn.execute(query).all(), strict=True)
    return np.array(ids), np.array(lons), np.array(lats)


def geodesic_m(conn: Connection, layer_id: str, lon: float, lat: float) -> dict[int, float]:
    ids, lons, lats = raw_layer(conn, layer_id)
    _, _, dist = GEOD.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)
    return dict(zip(ids.tolist(), dist.tolist(), strict=True))


def asset_lonlat(conn: Connection, asset_id: int) -> tuple[float, float]:
    query = select(func.ST_X(assets.c.geom), func.ST_Y(assets.c.geom)).where(assets.c.id == asset_id)
    lon, lat = conn.execute(query).one()
    return float(lon), float(lat)


def assert_same_within(rows: list[Any], expected_m: dict[int, float], distance_m: float) -> None:
    got = {r.id: r.distance_m for r in rows}
    inside = {i for i, d in expected_m.items() if d <= distance_m - BOUNDARY_M}
    maybe = {i for i, d in expected_m.items() if abs(d - distance_m) < BOUNDARY_M}
    assert inside <= set(got) <= inside | maybe
    assert all(got[i] == pytest.approx(expected_m[i], abs=0.01) for i in got)


@pytest.mark.parametrize(
    ("layer_id", "distance_m"), [("cctv", 300), ("dumping_points", 750), ("cctv", 10_000)]
)
def test_within_distance_of_a_point_matches_geodesics(
    conn: Connection, layer_id: str, distance_m: float
) -> None:
    rows = run(
        conn, "within_distance", {"layer": layer_id, "point": "128.18,-3.70", "distance_m": distance_m}
    )
    assert_same_within(rows, geodesic_m(conn, layer_id, *CENTRE), distance_m)
    assert rows and {r.layer for r in rows} == {layer_id}


def test_within_distance_of_an_asset_excludes_it(conn: Connection) -> None:
    camera_id, _ = first_asset(conn, "cctv")
    rows = run(conn, "within_distance", {"layer": "cctv", "asset_id": camera_id, "distance_m": 2000})
    expected = geodesic_m(conn, "cctv", *asset_lonlat(conn, camera_id))
    del expected[camera_id]
    assert_same_within(rows, expected, 2000)


def test_within_distance_of_a_line_matches_metric_distances(conn: Connection) -> None:
    line = shapely.LineString([(128.17, -3.70), (128.19, -3.705), (128.20, -3.69)])
    rows = run(conn, "within_distance", {"layer": "dumping_points", "geometry": line.wkt, "distance_m": 300})
    to_utm = Transformer.from_crs(4326, 32752, always_xy=True)
    line_utm = shapely.LineString(np.column_stack(to_utm.transform(*line.xy)))
    ids, lons, lats = raw_layer(conn, "dumping_points")
    points_utm = shapely.points(np.column_stack(to_utm.transform(lons, lats)))
    # UTM's scale error here is under 0.05 %, so a metre of slack covers it at 300 m.
    expected = dict(zip(ids.tolist(), shapely.distance(points_utm, line_utm).tolist(), strict=True))
    got = {r.id: r.distance_m for r in rows}
    assert (
        {i for i, d in expected.items() if d <= 299}
        <= set(got)
        <= {i for i, d in expected.items() if d <= 301}
    )
    assert all(got[i] == pytest.approx(expected[i], abs=1.0) for i in got) and got


def expected_nearest(distances: dict[int, float], n: int, max_m: float | None = None) -> list[int]:
    ranked = sorted((d, i) for i, d in distances.items() if max_m is None or d <= max_m)
    return [i for _, i in ranked[:n]]


@pytest.mark.parametrize(("layer_id", "n"), [("cctv", 5), ("dumping_points", 37), ("das_stations", 100)])
def test_nearest_to_a_point_matches_geodesics(conn: Connection, layer_id: str, n: int) -> None:
    rows = run(conn, "nearest", {"layer": layer_id, "point": "128.18,-3.70", "n": n})
    distances = geodesic_m(conn, layer_id, *CENTRE)
    assert [r.id for r in rows] == expected_nearest(distances, n)
    assert [r.rank for r in rows] == list(range(1, len(rows) + 1))
    assert all(r.distance_m == pytest.approx(distances[r.id], abs=0.01) for r in rows)


def test_nearest_to_an_asset_excludes_it_and_respects_max_distance(conn: Connection) -> None:
    camera_id, _ = first_asset(conn, "cctv")
    distances = geodesic_m(conn, "cctv", *asset_lonlat(conn, camera_id))
    del distances[camera_id]
    reach_m = sorted(distances.values())[3] + 1.0
    rows = run(conn, "nearest", {"layer": "cctv", "asset_id": camera_id, "n": 10, "max_distance_m": reach_m})
    assert [r.id for r in rows] == expected_nearest(distances, 10, reach_m) and len(rows) == 4
    rows = run(conn, "nearest", {"layer": "cctv", "asset_id": camera_id, "n": 10})
    assert [r.id for r in rows] == expected_nearest(distances, 10)


def test_nearest_uses_the_knn_index(conn: Connection) -> None:
    spec = QUERIES["nearest"]
    params = parse_params(spec.params, {"layer": "cctv", "point": "128.18,-3.70"})
    compiled = spec.build(QueryContext(conn, BPBD, datetime.now(UTC)), params).statement.compile(conn)
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
    assert "ix_assets_layer_id_geom" in plan and "Order By: (geom <->" in plan


@pytest.mark.parametrize(
    ("query_id", "values", "name"),
    [
        ("within_distance", {"layer": "cctv", "point": "128.18,-3.7", "distance_m": "0"}, "distance_m"),
        ("within_distance", {"layer": "cctv", "point": "128.18,-3.7", "distance_m": "10001"}, "distance_m"),
        ("within_distance", {"layer": "cctv", "point": "128.18,-3.7", "distance_m": "far"}, "distance_m"),
        ("within_distance", {"point": "128.18,-3.7"}, "layer"),
        ("within_distance", {"layer": "districts", "point": "128.18,-3.7"}, "layer"),
        ("within_distance", {"layer": "cctv"}, "parameters"),
        ("nearest", {"layer": "cctv", "point": "128.18,-3.7", "n": "0"}, "n"),
        ("nearest", {"layer": "cctv", "point": "128.18,-3.7", "n": "101"}, "n"),
        ("nearest", {"layer": "cctv", "point": "128.18,-3.7", "n": "2.5"}, "n"),
        ("nearest", {"layer": "cctv", "point": "128.18,-3.7", "max_distance_m": "50001"}, "max_distance_m"),
        ("nearest", {"layer": "cctv", "geometry": "POINT(128.18 -3.7)"}, "geometry"),
        ("nearest", {"layer": "rivers", "point": "128.18,-3.7"}, "layer"),
    ],
)
def test_bad_parameters_are_400s_in_both_languages(
    conn: Connection, query_id: str, values: dict[str, Any], name: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(conn, query_id, values)
    assert caught.value.details["parameter"] == name
    assert caught.value.message_en != caught.value.message_id


@pytest.mark.parametrize("query_id", ["within_distance", "nearest"])
def test_hidden_layer_or_asset_is_refused(conn: Connection, query_id: str) -> None:
    taxpayer_id, _ = first_asset(conn, "taxpayers")
    with pytest.raises(InvalidInput, match="layer: unknown layer"):
        run(conn, query_id, {"layer": "taxpayers", "point": "128.18,-3.7"}, DLHP)
    with pytest.raises(InvalidInput, match="asset_id: no asset"):
        run(conn, query_id, {"layer": "cctv", "asset_id": taxpayer_id}, DLHP)
