"""The simulated city: deterministic for a seed, rivers rise through the alert levels, bins fill and empty."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.simulator_world import SIMULATED, SimAsset, World
from layers.catalog import LAYERS
from layers.catalog.spec import Storage

START = datetime(2025, 3, 10, 22, 0, tzinfo=UTC)  # 07:00 in Ambon
RIVER = SimAsset(1, "das_stations", "DAS-01", {"waspada_cm": 150.0, "siaga_cm": 220.0, "awas_cm": 300.0})
CITY = [
    RIVER,
    SimAsset(2, "dumping_points", "TPS-01", {"tps_type": "tps"}),
    SimAsset(3, "cctv", "CAM-01", {}),
    SimAsset(4, "traffic_junctions", "SMP-01", {"legs": 4, "signal_type": "fixed_time"}),
    SimAsset(5, "city_apps", "APP-01", {}),
    SimAsset(6, "taxpayers", "WP-01", {"category": "restoran"}),
]


def _run(world: World, steps: int, dt_s: float) -> list[tuple[int, str, float | None]]:
    out: list[tuple[int, str, float | None]] = []
    for _ in range(steps):
        reports = world.step(dt_s)
        world.sent(reports)
        out += [(r.asset.asset_id, r.status, r.value) for r in reports]
    return out


def test_same_seed_gives_the_same_reports() -> None:
    first = _run(World(CITY, seed=3, start=START, min_gap_s=300), 200, 60)
    again = _run(World(CITY, seed=3, start=START, min_gap_s=300), 200, 60)
    other = _run(World(CITY, seed=4, start=START, min_gap_s=300), 200, 60)
    assert first == again
    assert first != other


def test_first_storm_takes_a_river_through_the_alert_levels_and_back() -> None:
    world = World([RIVER], seed=1, start=START, min_gap_s=60)
    statuses = [status for _, status, _ in _run(world, 24 * 60, 60)]
    peak = statuses.index("awas")
    assert statuses[0] == "normal"
    assert {"waspada", "siaga"} <= set(statuses[:peak])
    assert "normal" in statuses[peak:]


def test_dumping_point_fills_through_the_day_and_is_collected() -> None:
    world = World([CITY[1]], seed=2, start=START, min_gap_s=1800)
    fills = [value for _, _, value in _run(world, 3 * 48, 1800)]
    assert fills == [v for v in fills if v is not None]
    rises = sum(
        1 for a, b in zip(fills, fills[1:], strict=False) if b is not None and a is not None and b > a
    )
    drops = sum(
        1 for a, b in zip(fills, fills[1:], strict=False) if b is not None and a is not None and b < a - 20
    )
    assert rises > 2 * 48 and drops >= 2


def test_an_unchanged_asset_reports_again_only_when_due() -> None:
    world = World([CITY[5]], seed=5, start=START, min_gap_s=60)  # a tapping box reports hourly
    reports = _run(world, 120, 60)
    assert [status for _, status, _ in reports] == ["online"] * 2


def test_every_live_asset_layer_of_the_catalog_is_simulated() -> None:
    live = {i for i, s in LAYERS.items() if s.status is not None and s.storage is Storage.ASSETS}
    assert set(SIMULATED) == live
    assert {asset.layer_id for asset in CITY} == live


def test_reports_use_the_vocabulary_their_layer_declares() -> None:
    seen: dict[str, set[str]] = {}
    world = World(CITY, seed=6, start=START, min_gap_s=60)
    for _ in range(3 * 24 * 4):
        reports = world.step(900)
        world.sent(reports)
        for r in reports:
            seen.setdefault(r.asset.layer_id, set()).add(r.status)
    for layer_id, statuses in seen.items():
        status = LAYERS[layer_id].status
        assert status is not None and statuses <= set(status.values), layer_id
    assert set(seen) == set(SIMULATED)
