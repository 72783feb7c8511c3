"""The uncollected-waste clusters against an independent pandas + scikit-learn DBSCAN on the raw rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely import wkb
from sklearn.cluster import DBSCAN
from sqlalchemy import Connection, func, insert, select

from layers.access.policy import ANONYMOUS, Principal, may_read, principal_for
from layers.errors import InvalidInput
from layers.live.status import StatusReport, write_reports
from layers.queries.catalog.waste_clusters import QUERIES
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.tables import asset_status, assets, observations

SPEC = QUERIES[0]
DLHP = principal_for("tps", ["dlhp-operator"], kind="user")
TO_UTM = Transformer.from_crs(4326, 32752, always_xy=True)
TO_LONLAT = Transformer.from_crs(32752, 4326, always_xy=True)
ISLAND_UTM = (380_000.0, 9_570_000.0)  # at sea south-west of the city: no demo point within kilometres


def _run(conn: Connection, values: Mapping[str, Any], now: datetime | None = None) -> list[dict[str, Any]]:
    ctx = QueryContext(conn, DLHP, now or datetime.now(UTC))
    answer = SPEC.build(ctx, parse_params(SPEC.params, values))
    stmt = answer.statement.subquery()
    rows = conn.execute(select(stmt, func.ST_AsBinary(stmt.c.geom).label("wkb")))
    return [dict(r._mapping) for r in rows]


def _raw_candidates(conn: Connection, statuses: set[str], hours: float, now: datetime) -> pd.DataFrame:
    """Uncollected dumping points computed in pandas from the raw status and observation rows."""
    latest = pd.DataFrame(
        conn.execute(
            select(
                assets.c.id,
                func.ST_X(assets.c.geom).label("lon"),
                func.ST_Y(assets.c.geom).label("lat"),
                assets.c.properties["capacity_m3"].as_float().label("capacity"),
                asset_status.c.status,
                asset_status.c.observed_at,
            )
            .join(asset_status, asset_status.c.asset_id == assets.c.id)
            .where(assets.c.layer_id == "dumping_points")
        )
        .mappings()
        .all()
    )
    latest = latest[latest.status.isin(statuses)].set_index("id")
    obs = pd.DataFrame(
        conn.execute(
            select(observations.c.asset_id, observations.c.status, observations.c.observed_at).where(
                observations.c.asset_id.in_(latest.index.tolist())
            )
        )
        .mappings()
        .all(),
        columns=["asset_id", "status", "observed_at"],
    )
    since: dict[int, datetime] = {}
    for asset_id, row in latest.iterrows():
        history = obs[(obs.asset_id == asset_id) & (obs.observed_at <= row.observed_at)]
        history = history.sort_values("observed_at")
        breaks = history[~history.status.isin(statuses)]
        run = history if breaks.empty else history[history.observed_at > breaks.observed_at.max()]
        run = run[run.status.isin(statuses)]
        since[int(asset_id)] = run.observed_at.min() if not run.empty else row.observed_at
    latest["since"] = pd.Series(since)
    latest["hours"] = [(now - s).total_seconds() / 3600 for s in latest.since]
    out = latest[latest.hours > hours].copy()
    out["x"], out["y"] = TO_UTM.transform(out.lon.to_numpy(), out.lat.to_numpy())
    return out.sort_index()


def _members(row: Mapping[str, Any]) -> set[int]:
    return {int(i) for i in str(row["member_ids"]).split(",")}


def _assert_core_membership_agrees(rows: list[dict[str, Any]], raw: pd.DataFrame, eps: float, k: int) -> None:
    """Core points are clustered alike by PostGIS and sklearn; border points may go either way."""
    model = DBSCAN(eps=eps, min_samples=k).fit(raw[["x", "y"]].to_numpy())
    ids = raw.index.to_numpy()
    core = {int(ids[i]): int(model.labels_[i]) for i in model.core_sample_indices_}
    clustered = {int(ids[i]) for i in np.flatnonzero(model.labels_ >= 0)}
    returned = [_members(r) for r in rows]
    assert set().union(*returned) == clustered if returned else not clustered
    labels_seen: set[int] = set()
    for members in returned:
        labels = {core[m] for m in members if m in core}
        assert len(labels) == 1  # each returned cluster holds the core of exactly one sklearn cluster
        assert not labels & labels_seen
        labels_seen |= labels
        assert {m for m in members if m in core} == {i for i, lab in core.items() if lab in labels}
    assert labels_seen == set(core.values())


def _fill_demo_points(conn: Connection, now: datetime) -> None:
    """Make a seeded half of the demo dumping points full or overflowing, filled 1 to 48 hours ago."""
    ids = conn.execute(select(assets.c.id).where(assets.c.layer_id == "dumping_points")).scalars().all()
    rng = np.random.default_rng(6)
    chosen = rng.choice(sorted(ids), size=len(ids) // 2, replace=False).tolist()
    reports = []
    for asset_id, age_h in zip(chosen, rng.uniform(1, 48, len(chosen)).tolist(), strict=True):
        status = "overflow" if rng.random() < 0.3 else "full"
        reports += [
            StatusReport("full", now - timedelta(hours=age_h), "test", asset_id=asset_id, value=90.0),
            StatusReport(status, now - timedelta(seconds=1), "test", asset_id=asset_id, value=100.0),
        ]
    assert all(r.outcome == "accepted" for r in write_reports(conn, DLHP, reports))


@pytest.mark.parametrize(("eps", "min_points", "hours"), [(250, 2, 0), (600, 3, 0), (150, 1, 0), (800, 4, 0)])
def test_clusters_match_sklearn_dbscan_on_demo_data(
    conn: Connection, eps: float, min_points: int, hours: float
) -> None:
    now = datetime.now(UTC)
    _fill_demo_points(conn, now)
    rows = _run(conn, {"hours": str(hours), "eps_m": str(eps), "min_points": str(min_points)}, now)
    raw = _raw_candidates(conn, {"full", "overflow"}, hours, now)
    assert len(raw) > 50 and sum(len(_members(r)) > 1 for r in rows) > 3  # a real comparison
    _assert_core_membership_agrees(rows, raw, eps, min_points)


def test_cluster_aggregates_match_members(conn: Connection) -> None:
    now = datetime.now(UTC)
    _fill_demo_points(conn, now)
    rows = _run(conn, {"hours": "0", "eps_m": "400", "buffer_m": "30"}, now)
    raw = _raw_candidates(conn, {"full", "overflow"}, 0, now)
    assert rows
    for row in rows:
        members = raw.loc[sorted(_members(row))]
        assert row["id"] == members.index.min()
        assert row["point_count"] == len(members)
        assert row["total_capacity_m3"] == pytest.approx(members.capacity.sum())
        assert row["overflow_count"] == int((members.status == "overflow").sum())
        assert row["oldest_report"] == members.since.min()
        assert row["hours_uncollected"] == pytest.approx(members.hours.max(), abs=1e-6)
        weights = members.capacity * (1 + members.hours / 24) * np.where(members.status == "overflow", 1.5, 1)
        assert row["priority"] == pytest.approx(weights.sum(), abs=0.051)
        expected_class = "high" if row["priority"] >= 50 else "medium" if row["priority"] >= 20 else "low"
        assert row["priority_class"] == expected_class


def test_cluster_polygon_is_the_buffered_hull_in_utm(conn: Connection) -> None:
    now = datetime.now(UTC)
    _fill_demo_points(conn, now)
    rows = _run(conn, {"hours": "0", "eps_m": "400", "buffer_m": "50"}, now)
    raw = _raw_candidates(conn, {"full", "overflow"}, 0, now)
    for row in rows:
        members = raw.loc[sorted(_members(row))]
        hull = shapely.MultiPoint(members[["x", "y"]].to_numpy()).convex_hull
        expected = hull.buffer(50, quad_segs=8)
        got = shapely.transform(
            wkb.loads(bytes(row["wkb"])), lambda xy: np.column_stack(TO_UTM.transform(*xy.T))
        )
        assert got.geom_type == "Polygon"
        assert got.symmetric_difference(expected).area < 0.01 * expected.area


def _test_points(conn: Connection, offsets_m: list[tuple[float, float]], capacity: float = 5.0) -> list[int]:
    """Insert dumping points at metre offsets from a spot at sea, far from every demo point."""
    ids: list[int] = []
    for n, (dx, dy) in enumerate(offsets_m):
        lon, lat = TO_LONLAT.transform(ISLAND_UTM[0] + dx, ISLAND_UTM[1] + dy)
        ids.append(
            conn.execute(
                insert(assets)
                .values(
                    layer_id="dumping_points",
                    external_id=f"TEST-WC-{n}",
                    name=f"TPS uji {n}",
                    geom=func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326),
                    agency="dlhp",
                    properties={"tps_type": "tps", "capacity_m3": capacity},
                )
                .returning(assets.c.id)
            ).scalar_one()
        )
    return ids


def _history(conn: Connection, asset_id: int, now: datetime, steps: list[tuple[float, str]]) -> None:
    """Report (hours ago, status) pairs for one asset."""
    reports = [
        StatusReport(
            status=s, observed_at=now - timedelta(hours=h), source="test", asset_id=asset_id, value=80.0
        )
        for h, s in steps
    ]
    assert all(r.outcome == "accepted" for r in write_reports(conn, DLHP, reports))


def _ours(rows: list[dict[str, Any]], ids: list[int]) -> list[dict[str, Any]]:
    return [r for r in rows if _members(r) & set(ids)]


def test_uncollected_since_is_start_of_current_full_run(conn: Connection) -> None:
    now = datetime.now(UTC)
    a, b, c = _test_points(conn, [(0, 0), (100, 0), (0, 100)])
    _history(conn, a, now, [(60, "full"), (40, "empty"), (30, "half"), (20, "full"), (1, "overflow")])
    _history(conn, b, now, [(50, "full"), (10, "full")])  # no collection in the history at all
    _history(conn, c, now, [(30, "empty"), (2, "full")])  # full for 2 hours only
    rows = _ours(_run(conn, {"hours": "0"}, now), [a, b, c])
    assert len(rows) == 1 and _members(rows[0]) == {a, b, c}
    assert rows[0]["oldest_report"] == now - timedelta(hours=50)
    assert rows[0]["overflow_count"] == 1
    assert rows[0]["hours_uncollected"] == pytest.approx(50, abs=1e-6)


@pytest.mark.parametrize(("hours", "expected"), [(0, {0, 1, 2}), (15, {0, 1}), (25, set()), (5, {0, 1, 2})])
def test_hours_filter_drops_recently_filled_points(
    conn: Connection, hours: float, expected: set[int]
) -> None:
    now = datetime.now(UTC)
    ids = _test_points(conn, [(0, 0), (150, 0), (300, 0)])
    for asset_id, age in zip(ids, [20, 16, 6], strict=True):
        _history(conn, asset_id, now, [(age + 1, "empty"), (age, "full"), (0.5, "full")])
    rows = _ours(_run(conn, {"hours": str(hours), "min_points": "2"}, now), ids)
    returned = set().union(*(_members(r) for r in rows)) if rows else set()
    # With hours=15 the third point drops out; the chain 0-1 still holds 2 points, so it stays a cluster.
    assert returned == {ids[i] for i in expected}


def test_noise_is_dropped_unless_min_points_is_one(conn: Connection) -> None:
    now = datetime.now(UTC)
    lone, *pair = _test_points(conn, [(0, 0), (2000, 0), (2100, 0)])
    for asset_id in (lone, *pair):
        _history(conn, asset_id, now, [(30, "empty"), (26, "full")])
    two = _ours(_run(conn, {"min_points": "2"}, now), [lone, *pair])
    assert [_members(r) for r in two] == [set(pair)]
    one = _ours(_run(conn, {"min_points": "1", "buffer_m": "0"}, now), [lone, *pair])
    assert sorted(map(_members, one), key=min) == [{lone}, set(pair)]
    assert all(wkb.loads(bytes(r["wkb"])).geom_type == "Polygon" for r in one)


def test_statuses_parameter_selects_other_statuses(conn: Connection) -> None:
    now = datetime.now(UTC)
    ids = _test_points(conn, [(0, 0), (50, 0)])
    for asset_id in ids:
        _history(conn, asset_id, now, [(40, "empty"), (30, "half")])
    assert not _ours(_run(conn, {}, now), ids)
    rows = _ours(_run(conn, {"statuses": "half,full"}, now), ids)
    assert [_members(r) for r in rows] == [set(ids)]
    assert rows[0]["oldest_report"] == now - timedelta(hours=30)


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"hours": "721"}, "hours"),
        ({"eps_m": "5"}, "eps_m"),
        ({"eps_m": "abc"}, "eps_m"),
        ({"min_points": "0"}, "min_points"),
        ({"min_points": "2.5"}, "min_points"),
        ({"buffer_m": "-1"}, "buffer_m"),
        ({"statuses": "full,burning"}, "statuses"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_are_refused_in_both_languages(values: dict[str, str], name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPEC.params, values)
    assert caught.value.message_en.startswith(f"{name}: ")
    assert caught.value.message_id.startswith(f"{name}: ")
    assert caught.value.message_en != caught.value.message_id


def test_only_signed_in_staff_may_run_it() -> None:
    staff: list[Principal] = [DLHP, principal_for("b", ["bpprd-operator"], kind="user")]
    assert all(may_read(p, SPEC) for p in staff)
    assert not may_read(ANONYMOUS, SPEC)
