"""The demo city generator: geography on the real coast, valid assets, plausible status history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import combinations, islice

import numpy as np
import pytest
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.crs import metric_transformers
from layers.catalog import get_layer
from layers.catalog.agencies import AGENCIES
from layers.demo.generate import (
    BASE_COUNTS,
    DEMO_NOTE,
    AssetRow,
    StatusRow,
    generate_assets,
    generate_history,
    layer_counts,
)
from layers.demo.geography import DemoGeography, Place, build_geography, load_island

SAMPLE = 3_000
SAMPLED_LAYERS = ("cctv", "taxpayers", "dumping_points", "traffic_junctions")
FIXED_LAYERS = ("das_stations", "city_apps")
POINT_LAYERS = SAMPLED_LAYERS + FIXED_LAYERS
KECAMATAN = {"Nusaniwe", "Sirimau", "Teluk Ambon Baguala", "Teluk Ambon", "Leitimur Selatan"}
NOP = re.compile(r"^81\.71\.0([1-5])0\.\d{3}\.\d{3}-\d{4}\.0$")
END = datetime(2025, 6, 20, 6, 0, tzinfo=UTC)  # wet season, so the rivers have something to say
START = END - timedelta(days=30)
TINY_DEG2 = 1e-10  # about 1 m²


@pytest.fixture(scope="module")
def geography() -> DemoGeography:
    return build_geography()


@cache
def assets(layer_id: str, seed: int = 1) -> list[AssetRow]:
    return list(generate_assets(layer_id, min(SAMPLE, BASE_COUNTS[layer_id]), seed))


@cache
def sampled(layer_id: str, seed: int = 1) -> list[AssetRow]:
    """Return enough rows to test the spread, whatever the layer's base count."""
    count = BASE_COUNTS[layer_id] if layer_id in FIXED_LAYERS else SAMPLE
    return list(generate_assets(layer_id, count, seed))


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    forward, _ = metric_transformers()
    return shapely.transform(geom, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))


def places_of(geography: DemoGeography, layer_id: str) -> list[Place]:
    return {
        "districts": geography.districts,
        "villages": geography.villages,
        "rivers": geography.rivers,
        "river_basins": geography.basins,
    }[layer_id]


def test_the_five_kecamatan_are_there_by_name(geography: DemoGeography) -> None:
    assert {d.name for d in geography.districts} == KECAMATAN
    assert sorted(d.code for d in geography.districts) == [f"81.71.0{k}" for k in range(1, 6)]


def test_districts_are_valid_polygons_on_the_island(geography: DemoGeography) -> None:
    island = load_island().buffer(1e-9)
    for district in geography.districts:
        assert district.geom.is_valid and district.geom.geom_type == "Polygon", district.name
        assert island.covers(district.geom), district.name


def test_districts_do_not_overlap(geography: DemoGeography) -> None:
    for a, b in combinations(geography.districts, 2):
        assert a.geom.intersection(b.geom).area < TINY_DEG2, (a.name, b.name)


def test_districts_tile_the_city_without_gaps(geography: DemoGeography) -> None:
    total = sum(d.geom.area for d in geography.districts)
    assert total == pytest.approx(geography.city.area, rel=1e-9)
    assert geography.city.geom_type == "Polygon" and not geography.city.interiors


def test_the_bay_is_water(geography: DemoGeography) -> None:
    for lon, lat in ((128.15, -3.70), (128.22, -3.645), (128.12, -3.74)):
        assert not geography.city.intersects(Point(lon, lat))


def test_villages_lie_in_their_district(geography: DemoGeography) -> None:
    districts = {d.code: d.geom.buffer(1e-9) for d in geography.districts}
    assert 45 <= len(geography.villages) <= 60
    assert len({v.code for v in geography.villages}) == len(geography.villages)
    for village in geography.villages:
        assert village.geom.is_valid and not village.geom.is_empty, village.name
        assert districts[village.properties["district_code"]].covers(village.geom), village.name
        assert village.code.startswith(village.properties["district_code"] + ".")


@pytest.mark.parametrize("layer_id", ["districts", "villages", "rivers", "river_basins"])
def test_place_properties_are_valid_for_their_layer(geography: DemoGeography, layer_id: str) -> None:
    model = get_layer(layer_id).properties
    for place in places_of(geography, layer_id):
        assert model.model_validate(place.properties).model_dump(exclude_unset=True) == place.properties
        assert place.properties["code"] == place.code
        json.dumps(place.properties)


def test_rivers_lie_on_city_land_from_source_to_coast(geography: DemoGeography) -> None:
    coast = to_metric(load_island().exterior)
    for river in geography.rivers:
        assert river.geom.geom_type == "LineString" and geography.city.contains(river.geom), river.code
        source, mouth = Point(river.geom.coords[0]), Point(river.geom.coords[-1])
        assert to_metric(mouth).distance(coast) < 10.0, river.code
        assert to_metric(source).distance(coast) > 300.0, river.code
        assert 3.0 <= river.properties["length_km"] <= 8.0, river.code


@pytest.mark.parametrize(
    ("codes", "district_names"),
    [
        (("WBT", "WBJ", "WTM", "WBM", "WRH"), ("Sirimau", "Nusaniwe")),
        (("WLL", "WYR"), ("Teluk Ambon Baguala",)),
    ],
)
def test_rivers_flow_through_their_districts(
    geography: DemoGeography, codes: tuple[str, ...], district_names: tuple[str, ...]
) -> None:
    area = shapely.union_all([d.geom for d in geography.districts if d.name in district_names]).buffer(1e-9)
    rivers = {r.code: r.geom for r in geography.rivers}
    for code in codes:
        assert area.covers(rivers[code]), code


def test_each_basin_contains_its_river_and_none_overlap(geography: DemoGeography) -> None:
    rivers = {r.code: r.geom for r in geography.rivers}
    assert sorted(b.properties["river_code"] for b in geography.basins) == sorted(rivers)
    for basin in geography.basins:
        assert basin.geom.is_valid and basin.geom.contains(rivers[basin.properties["river_code"]]), basin.code
        assert geography.city.buffer(1e-9).covers(basin.geom), basin.code
    for a, b in combinations(geography.basins, 2):
        assert a.geom.intersection(b.geom).area < TINY_DEG2, (a.code, b.code)


def test_geography_is_built_once(geography: DemoGeography) -> None:
    assert build_geography() is geography


def test_layer_counts_scale_all_but_the_real_things() -> None:
    assert layer_counts(1) == dict(BASE_COUNTS)
    scaled = layer_counts(10)
    for layer_id, n in BASE_COUNTS.items():
        assert scaled[layer_id] == (n if layer_id in FIXED_LAYERS else 10 * n)


@pytest.mark.parametrize("layer_id", POINT_LAYERS)
def test_every_asset_lies_inside_a_district(geography: DemoGeography, layer_id: str) -> None:
    rows = sampled(layer_id)
    lon, lat = np.array([r.lon for r in rows]), np.array([r.lat for r in rows])
    inside = np.zeros(len(rows), dtype=np.int64)
    for district in geography.districts:
        inside += shapely.intersects_xy(district.geom, lon, lat)
    assert (inside >= 1).all()


@pytest.mark.parametrize("layer_id", POINT_LAYERS)
def test_asset_properties_are_valid_and_ids_unique(layer_id: str) -> None:
    rows = sampled(layer_id)
    model = get_layer(layer_id).properties
    for row in rows:
        assert model.model_validate(row.properties) is not None
        assert row.name and json.loads(json.dumps(row.properties)) == row.properties
    assert len({r.external_id for r in rows}) == len(rows)


@pytest.mark.parametrize("layer_id", POINT_LAYERS)
def test_base_counts_are_met(layer_id: str) -> None:
    assert len(assets(layer_id)) == min(SAMPLE, BASE_COUNTS[layer_id])


@pytest.mark.parametrize("layer_id", SAMPLED_LAYERS)
def test_same_seed_same_rows_and_another_seed_other_rows(layer_id: str) -> None:
    again = list(generate_assets(layer_id, len(assets(layer_id)), 1))
    assert again == assets(layer_id)
    assert assets(layer_id, seed=2) != assets(layer_id)


@pytest.mark.parametrize("layer_id", SAMPLED_LAYERS)
def test_fewer_assets_are_a_prefix_of_more(layer_id: str) -> None:
    assert list(generate_assets(layer_id, 25, 1)) == sampled(layer_id)[:25]


def test_taxpayer_nops_name_the_district_that_holds_them(geography: DemoGeography) -> None:
    districts = {d.code: d.geom.buffer(1e-9) for d in geography.districts}
    for row in sampled("taxpayers")[:500]:
        match = NOP.match(row.external_id)
        assert match and row.properties["nop"] == row.external_id
        assert districts[f"81.71.0{match.group(1)}"].covers(Point(row.lon, row.lat)), row.external_id


def test_taxpayers_crowd_the_centre_more_than_dumping_points() -> None:
    def near_centre(rows: list[AssetRow]) -> float:
        return float(np.mean([abs(r.lon - 128.18) < 0.02 and abs(r.lat + 3.70) < 0.02 for r in rows]))

    assert near_centre(sampled("taxpayers")) > 0.4
    assert near_centre(sampled("taxpayers")) > near_centre(sampled("dumping_points"))


def test_cameras_look_in_plausible_directions() -> None:
    for row in sampled("cctv"):
        p = row.properties
        assert 0 <= p["view_direction_deg"] < 360 and 40 <= p["fov_deg"] <= 110 and 40 <= p["range_m"] <= 150


def test_das_stations_lie_on_their_river_upstream_first(geography: DemoGeography) -> None:
    rivers = {r.code: r for r in geography.rivers}
    stations = assets("das_stations")
    for station in stations:
        river = rivers[station.properties["river_code"]]
        assert station.properties["river_name"] == river.name
        assert to_metric(Point(station.lon, station.lat)).distance(to_metric(river.geom)) < 1.0
    for code, river in rivers.items():
        along = [
            river.geom.project(Point(s.lon, s.lat)) for s in stations if s.properties["river_code"] == code
        ]
        assert len(along) >= 2 and along == sorted(along), code
    assert [s.external_id for s in stations][:2] == ["DAS-WBT-01", "DAS-WBT-02"]


def test_city_apps_are_ten_at_their_agencys_office() -> None:
    apps = assets("city_apps")
    assert len(apps) == 10
    for app in apps:
        assert app.external_id == app.properties["app_code"] == app.external_id.lower()
        assert app.properties["agency"] in AGENCIES
        assert abs(app.lon - 128.18) < 0.02 and abs(app.lat + 3.695) < 0.02


def test_fixed_layers_ignore_the_seed_and_refuse_more_than_exist() -> None:
    for layer_id in FIXED_LAYERS:
        assert list(generate_assets(layer_id, BASE_COUNTS[layer_id], 99)) == assets(layer_id)
        with pytest.raises(ValueError):
            generate_assets(layer_id, BASE_COUNTS[layer_id] + 1, 1)


def test_only_point_layers_have_generated_assets() -> None:
    with pytest.raises(ValueError):
        generate_assets("districts", 5, 1)


def test_demo_data_is_marked_as_synthetic() -> None:
    assert "synthetic" in DEMO_NOTE.lower()


def history(layer_id: str, index: int = 0, seed: int = 1, max_rows: int = 2_000) -> list[StatusRow]:
    return generate_history(layer_id, assets(layer_id)[index], START, END, seed, max_rows=max_rows)


@pytest.mark.parametrize("layer_id", POINT_LAYERS)
def test_history_uses_the_vocabulary_and_the_value_range(layer_id: str) -> None:
    spec = get_layer(layer_id).status
    assert spec is not None
    for index in range(5):
        for row in history(layer_id, index):
            assert row.status in spec.values
            if row.value is not None:
                assert spec.value_range is not None
                assert spec.value_range[0] <= row.value <= spec.value_range[1]
            assert row.observed_at.tzinfo is not None and row.observed_at.utcoffset() == timedelta(0)
            assert START <= row.observed_at <= END
            json.dumps(row.details)


@pytest.mark.parametrize("layer_id", POINT_LAYERS)
def test_history_is_thinned_to_max_rows_keeping_the_ends(layer_id: str) -> None:
    rows = history(layer_id, max_rows=37)
    assert 2 <= len(rows) <= 37
    assert rows[0].observed_at == START and rows[-1].observed_at == END
    times = [r.observed_at for r in rows]
    assert times == sorted(set(times))
    assert len(history(layer_id, max_rows=1)) == 1


@pytest.mark.parametrize("layer_id", POINT_LAYERS)
def test_history_follows_the_report_interval(layer_id: str) -> None:
    spec = get_layer(layer_id).status
    assert spec is not None
    end = START + spec.report_every * 20
    rows = generate_history(layer_id, assets(layer_id)[0], START, end, 1, max_rows=1_000)
    assert [r.observed_at for r in rows] == [START + spec.report_every * k for k in range(21)]


@pytest.mark.parametrize("layer_id", POINT_LAYERS)
def test_history_is_deterministic_for_the_seed(layer_id: str) -> None:
    assert history(layer_id) == history(layer_id)
    assert history(layer_id) != history(layer_id, seed=2)


def test_cameras_are_mostly_online() -> None:
    statuses = [r.status for i in range(20) for r in history("cctv", i)]
    assert 0.8 < statuses.count("online") / len(statuses) < 1.0


def test_dumping_status_follows_the_fill_level() -> None:
    rows = [r for i in range(10) for r in history("dumping_points", i)]
    bands = {"empty": (0, 25), "half": (25, 70), "full": (70, 100), "overflow": (100, 151)}
    for row in rows:
        low, high = bands[row.status]
        assert row.value is not None and low <= row.value < high
        assert datetime.fromisoformat(row.details["last_collected_at"]) <= row.observed_at
    assert {"empty", "half", "full"} <= {r.status for r in rows}


def test_river_status_follows_the_station_thresholds() -> None:
    seen = set()
    for index, station in enumerate(assets("das_stations")):
        p = station.properties
        for row in history("das_stations", index):
            assert row.value is not None
            level = (
                (row.value >= p["waspada_cm"]) + (row.value >= p["siaga_cm"]) + (row.value >= p["awas_cm"])
            )
            assert row.status == ("normal", "waspada", "siaga", "awas")[level]
            seen.add(row.status)
    assert {"normal", "waspada"} <= seen


def test_junctions_peak_at_rush_hour_and_report_the_signal() -> None:
    rows = [r for i in range(10) for r in history("traffic_junctions", i, max_rows=20_000)]
    by_hour: dict[int, list[float]] = {}
    for row in rows:
        assert row.details["signal"] in {"normal", "flashing"} and row.value is not None
        by_hour.setdefault((row.observed_at.hour + 9) % 24, []).append(row.value)
    assert np.mean(by_hour[7]) > 2 * np.mean(by_hour[3]) and np.mean(by_hour[17]) > 2 * np.mean(by_hour[3])
    assert {"lancar", "padat", "macet"} <= {r.status for r in rows}


def test_taxpayer_sales_accumulate_through_the_day() -> None:
    rows = [r for r in history("taxpayers", max_rows=10_000) if r.status == "online"]
    assert rows and all(r.value is not None and r.details["transactions"] >= 0 for r in rows)
    for before, after in zip(rows, rows[1:], strict=False):
        same_day = (before.observed_at + timedelta(hours=9)).date() == (
            after.observed_at + timedelta(hours=9)
        ).date()
        if same_day:
            assert before.value is not None and after.value is not None and after.value >= before.value


def test_history_rejects_naive_times_and_layers_without_status() -> None:
    with pytest.raises(ValueError):
        generate_history("cctv", assets("cctv")[0], START.replace(tzinfo=None), END, 1, max_rows=10)
    with pytest.raises(ValueError):
        generate_history("districts", assets("cctv")[0], START, END, 1, max_rows=10)


def test_assets_stream_without_building_the_whole_list() -> None:
    stream = generate_assets("cctv", 10_000_000, 1)
    assert len(list(islice(stream, 5))) == 5
