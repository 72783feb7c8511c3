"""Flood-risk zones and assets at risk, checked against an independent per-point computation."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
from geoalchemy2.shape import to_shape
from pyproj import Transformer
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from sqlalchemy import Connection, func, insert, select

from layers.access.policy import Principal, principal_for
from layers.errors import InvalidInput
from layers.live.status import StatusReport, write_reports
from layers.queries.catalog.flood_zones import QUERIES
from layers.queries.flood_cache import FloodRequest, zone_set_key
from layers.queries.flood_tables import flood_zone_sets
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.tables import asset_status, assets, observations, raster_sources

SPECS = {spec.id: spec for spec in QUERIES}
BPBD = principal_for("bpbd", ["bpbd-operator"], kind="user")
BPPRD = principal_for("pajak", ["bpprd-analyst"], kind="user")
DLHP = principal_for("sampah", ["dlhp-operator"], kind="user")
TO_UTM = Transformer.from_crs(4326, 32752, always_xy=True)
BAND_CM = 25
PIXEL_DEG = 0.001


def _run(
    conn: Connection, query: str, values: Mapping[str, str], who: Principal = BPBD
) -> list[dict[str, Any]]:
    spec = SPECS[query]
    answer = spec.build(QueryContext(conn, who, datetime.now(UTC)), parse_params(spec.params, values))
    rows = [dict(row._mapping) for row in conn.execute(answer.statement)]
    for row in rows:
        row["geom"] = to_shape(row["geom"])
    return rows


def _utm(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1])))


@dataclass
class _Truth:
    """The raw inputs read straight from the tables, for a per-point recomputation."""

    dem: Any  # open rasterio datasets
    hazard: Any
    rivers: dict[str, LineString]  # code -> UTM line
    stations: list[tuple[str, str, Point, float | None]]  # code, river, UTM point, level cm

    def depth_m(self, lon: float, lat: float, distance_m: float, margin_m: float) -> float:
        """Return the water depth at a point (NaN when no river within reach floods it)."""
        point = Point(TO_UTM.transform(lon, lat))
        code, river = min(self.rivers.items(), key=lambda item: item[1].distance(point))
        gauges = [
            (river.project(p), level) for c, r, p, level in self.stations if r == code and level is not None
        ]
        if river.distance(point) > distance_m or not gauges:
            return math.nan
        _, bed_point = nearest_points(point, river)
        level = min(gauges, key=lambda g: abs(g[0] - river.project(bed_point)))[1]
        stage_m = math.floor(level / BAND_CM) * BAND_CM / 100
        return self._elevation(bed_point) + stage_m + margin_m - self._elevation(point)

    def hazard_class(self, lon: float, lat: float) -> int:
        """Return the hazard raster's class at a point (its nodata counts as no hazard)."""
        value = int(next(self.hazard.sample([(lon, lat)]))[0])
        return 0 if value == self.hazard.nodata else value

    def _elevation(self, point_m: Point) -> float:
        lonlat = TO_UTM.transform(point_m.x, point_m.y, direction="INVERSE")
        value = float(next(self.dem.sample([lonlat]))[0])
        return math.nan if value == self.dem.nodata else value


@pytest.fixture
def truth(conn: Connection) -> Any:
    paths = dict(conn.execute(select(raster_sources.c.kind, raster_sources.c.path)).all())
    a = assets.c
    rivers = conn.execute(select(a.properties["code"].astext, a.geom).where(a.layer_id == "rivers")).all()
    stations = conn.execute(
        select(a.external_id, a.properties["river_code"].astext, a.geom, asset_status.c.value)
        .outerjoin(asset_status, asset_status.c.asset_id == a.id)
        .where(a.layer_id == "das_stations")
    ).all()
    with rasterio.open(Path(paths["dem"])) as dem, rasterio.open(Path(paths["flood_hazard"])) as hazard:
        yield _Truth(
            dem,
            hazard,
            {code: _utm(to_shape(geom)) for code, geom in rivers},
            [(code, river, _utm(to_shape(geom)), level) for code, river, geom, level in stations],
        )


def _pixel_centres_in(geom: BaseGeometry) -> list[tuple[float, float]]:
    west, south, east, north = geom.bounds
    lons = (np.floor(np.arange(west, east, PIXEL_DEG) / PIXEL_DEG) + 0.5) * PIXEL_DEG
    lats = (np.floor(np.arange(south, north, PIXEL_DEG) / PIXEL_DEG) + 0.5) * PIXEL_DEG
    grid = [(x, y) for x in lons for y in lats]
    return [xy for xy, inside in zip(grid, shapely.contains_xy(geom, grid), strict=True) if inside]


@pytest.mark.parametrize("values", [{}, {"level_cm": "200", "margin_m": "1", "distance_m": "400"}])
def test_points_in_zones_are_below_their_rivers_water_surface(
    conn: Connection, truth: _Truth, values: dict[str, str]
) -> None:
    if "level_cm" in values:
        truth.stations = [(c, r, p, float(values["level_cm"])) for c, r, p, _ in truth.stations]
    distance_m, margin_m = float(values.get("distance_m", 500)), float(values.get("margin_m", 0.5))
    zones = _run(conn, "flood_zones", values)
    assert zones
    rng = np.random.default_rng(1)
    for zone in zones:
        centres = _pixel_centres_in(zone["geom"])
        for k in rng.choice(len(centres), size=min(5, len(centres)), replace=False):
            lon, lat = centres[k]
            depth = truth.depth_m(lon, lat, distance_m, margin_m)
            assert depth > 0, (zone["station_code"], centres[k])
            expected_class = 1 if depth < 0.5 else 2 if depth <= 1.5 else 3
            assert expected_class == zone["depth_class"] or min(abs(depth - 0.5), abs(depth - 1.5)) < 1e-3
            assert depth <= zone["max_depth_m"] + 1e-3
            assert truth.hazard_class(lon, lat) == zone["hazard_class"]


def test_independently_flooded_pixels_lie_in_a_zone(conn: Connection, truth: _Truth) -> None:
    distance_m, margin_m = 400.0, 1.0
    truth.stations = [(c, r, p, 200.0) for c, r, p, _ in truth.stations]
    zones = _run(conn, "flood_zones", {"level_cm": "200", "margin_m": "1", "distance_m": "400"})
    union = shapely.union_all([z["geom"] for z in zones])
    near = shapely.union_all([r.buffer(distance_m) for r in truth.rivers.values()])
    candidates = _pixel_centres_in(shapely.envelope(union).buffer(0.005))
    candidates = [xy for xy in candidates if near.contains(Point(TO_UTM.transform(*xy)))]
    rng = np.random.default_rng(2)
    flooded = 0
    for k in rng.choice(len(candidates), size=400, replace=False):
        lon, lat = candidates[k]
        depth = truth.depth_m(lon, lat, distance_m, margin_m)
        if depth > 1e-3:
            flooded += 1
            assert union.distance(Point(lon, lat)) <= PIXEL_DEG * 1.5, (lon, lat, depth)
        elif not depth > -1e-3:  # dry, or out of every station's reach
            assert not union.contains(Point(lon, lat)), (lon, lat, depth)
    assert flooded > 20


def _station(conn: Connection, code: str) -> tuple[int, float]:
    row = conn.execute(
        select(assets.c.id, asset_status.c.value)
        .join(asset_status, asset_status.c.asset_id == assets.c.id)
        .where(assets.c.layer_id == "das_stations", assets.c.external_id == code)
    ).one()
    return int(row.id), float(row.value)


def _report_level(conn: Connection, asset_id: int, level_cm: float) -> None:
    report = StatusReport("awas", datetime.now(UTC), "test", asset_id=asset_id, value=level_cm)
    assert write_reports(conn, BPBD, [report])[0].outcome == "accepted"


def _flooded_m2(zones: list[dict[str, Any]]) -> BaseGeometry:
    return _utm(shapely.union_all([z["geom"] for z in zones]))


def test_zones_grow_when_a_station_rises_into_a_higher_band(conn: Connection) -> None:
    live = FloodRequest(distance_m=500, margin_m=0.5)
    key_before = zone_set_key(conn, live)
    before = _flooded_m2(_run(conn, "flood_zones", {}))
    asset_id, level_cm = _station(conn, "DAS-WBM-02")
    _report_level(conn, asset_id, level_cm + 150)
    key_after = zone_set_key(conn, live)
    after_rows = _run(conn, "flood_zones", {})
    after = _flooded_m2(after_rows)
    assert key_after != key_before
    assert after.area > before.area
    assert before.difference(after).area < 1.0  # nothing that was wet dries up
    raised = {z["stage_cm"] for z in after_rows if z["station_code"] == "DAS-WBM-02"}
    assert raised == {math.floor((level_cm + 150) / BAND_CM) * BAND_CM}


def test_a_level_change_within_its_band_reuses_the_cached_set(conn: Connection) -> None:
    live = FloodRequest(distance_m=500, margin_m=0.5)
    key_before = zone_set_key(conn, live)
    # Sets other callers committed (the real-server tests run flood queries) stay in the table.
    sets_before = conn.execute(select(func.count()).select_from(flood_zone_sets)).scalar_one()
    asset_id, level_cm = _station(conn, "DAS-WBM-02")
    floor_cm = math.floor(level_cm / BAND_CM) * BAND_CM
    _report_level(conn, asset_id, floor_cm + (1 if level_cm >= floor_cm + 12 else 24))
    assert zone_set_key(conn, live) == key_before
    assert conn.execute(select(func.count()).select_from(flood_zone_sets)).scalar_one() == sets_before


def test_levels_at_a_past_time_come_from_the_observations(conn: Connection) -> None:
    at = datetime.now(UTC) - timedelta(days=2)
    zones = _run(conn, "flood_zones", {"at": at.isoformat()})
    assert zones
    o = observations.c
    for code in {z["station_code"] for z in zones}:
        level = conn.execute(
            select(o.value)
            .join(assets, assets.c.id == o.asset_id)
            .where(assets.c.external_id == code, o.observed_at <= at, o.value.is_not(None))
            .order_by(o.observed_at.desc())
            .limit(1)
        ).scalar_one()
        assert {z["stage_cm"] for z in zones if z["station_code"] == code} == {math.floor(level / 25) * 25}


def test_only_the_newest_sets_are_kept(conn: Connection) -> None:
    old = datetime.now(UTC) - timedelta(days=1)
    rows = [{"key": f"old-{k}", "inputs": {}, "zone_count": 0, "computed_at": old} for k in range(25)]
    conn.execute(insert(flood_zone_sets), rows)
    key = zone_set_key(conn, FloodRequest(distance_m=300, margin_m=0))
    keys = set(conn.execute(select(flood_zone_sets.c.key)).scalars())
    assert key in keys
    assert len(keys) == 20


def _expected_at_risk(conn: Connection, zones: list[dict[str, Any]], layer_ids: list[str]) -> dict[int, int]:
    """Return asset id -> deepest depth class of the zones it intersects, by shapely."""
    rows = conn.execute(select(assets.c.id, assets.c.geom).where(assets.c.layer_id.in_(layer_ids))).all()
    tree = shapely.STRtree([z["geom"] for z in zones])
    expected: dict[int, int] = {}
    for asset_id, geom in rows:
        hits = tree.query(to_shape(geom), predicate="intersects")
        if len(hits):
            expected[asset_id] = max(zones[k]["depth_class"] for k in hits)
    return expected


def test_assets_at_risk_are_the_assets_inside_the_zones(conn: Connection) -> None:
    values = {"level_cm": "300"}
    zones = _run(conn, "flood_zones", values, BPPRD)
    got = _run(conn, "assets_at_risk", values, BPPRD)
    layer_ids = ["cctv", "dumping_points", "traffic_junctions", "taxpayers"]
    assert {r["id"]: r["depth_class"] for r in got} == _expected_at_risk(conn, zones, layer_ids)
    assert {r["layer"] for r in got} == set(layer_ids)
    assert set(got[0]) == {
        "id",
        "geom",
        "layer",
        "name",
        "external_id",
        "status",
        "depth_class",
        "hazard_class",
        "station_code",
        "max_depth_m",
    }


def test_taxpayers_at_risk_are_hidden_from_other_agencies(conn: Connection) -> None:
    got = _run(conn, "assets_at_risk", {"level_cm": "300"}, DLHP)
    assert got
    assert "taxpayers" not in {r["layer"] for r in got}
    with pytest.raises(InvalidInput) as caught:
        _run(conn, "assets_at_risk", {"layers": "cctv,taxpayers"}, DLHP)
    assert "taxpayers" in caught.value.message_en and "taxpayers" in caught.value.message_id


@pytest.mark.parametrize(
    ("values", "english", "indonesian"),
    [
        ({"distance_m": "10"}, "distance_m: must be at least 50", "distance_m: harus paling sedikit 50"),
        ({"distance_m": "far"}, "distance_m: must be a number", "distance_m: harus angka"),
        ({"margin_m": "6"}, "margin_m: must be at most 5", "margin_m: harus paling banyak 5"),
        ({"level_cm": "-5"}, "level_cm: must be at least 0", "level_cm: harus paling sedikit 0"),
        ({"at": "yesterday"}, "at: must be an RFC 3339 date-time", "at: harus tanggal-waktu RFC 3339"),
        ({"at": "2025-01-01T00:00:00"}, "at: must carry a time zone", "at: harus menyertakan zona waktu"),
        ({"level_cm": "100", "at": "2025-01-01T00:00:00Z"}, "not both", "jangan keduanya"),
        ({"depth": "1"}, "depth: is not a parameter", "depth: bukan parameter"),
        ({"layers": ""}, "layers: name 1 to", "layers: sebutkan 1 sampai"),
    ],
)
def test_bad_parameters_are_refused_in_both_languages(
    values: dict[str, str], english: str, indonesian: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPECS["assets_at_risk"].params, values)
    assert english in caught.value.message_en
    assert indonesian in caught.value.message_id


def test_a_time_in_the_future_is_refused(conn: Connection) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with pytest.raises(InvalidInput) as caught:
        _run(conn, "flood_zones", {"at": future})
    assert caught.value.message_en == "at: must not be in the future"
    assert caught.value.message_id == "at: tidak boleh di masa depan"
