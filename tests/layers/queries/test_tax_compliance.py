"""Tax compliance flags against the same flags computed with pandas/numpy from the raw observations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Connection, func, insert, select

from layers.access.policy import ANONYMOUS, Principal, may_read, principal_for
from layers.catalog.taxpayers import LAYER
from layers.errors import InvalidInput
from layers.live.status import StatusReport, write_reports
from layers.queries.catalog.tax_compliance import QUERIES
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.tables import asset_status, assets, observations

SPEC = QUERIES[0]
ANALYST = principal_for("analis", ["bpprd-analyst"], kind="user")
OPERATOR = principal_for("operator", ["bpprd-operator"], kind="user")
AMOUNTS = ("day", "day_amount", "median_daily_amount", "share_of_median")
STALE_AFTER = LAYER.status.stale_after  # type: ignore[union-attr]
WIT = timedelta(hours=9)
DAY = timedelta(days=1)
MIN_HISTORY = 3
# A tapping box's running total through a local day: (WIT hour, share of the day's sales so far).
THROUGH_THE_DAY = ((9, 0.2), (15, 0.6), (22, 1.0))
Step = tuple[datetime, str, float | None]


def _clock() -> tuple[datetime, datetime]:
    """Return a "now" at 10:00 WIT (the latest one on the real clock) and the UTC moment its day began."""
    real = datetime.now(UTC).replace(microsecond=0)
    midnight = datetime.combine((real + WIT).date(), time(), tzinfo=UTC) - WIT
    if real < midnight + timedelta(hours=10):
        midnight -= DAY
    return midnight + timedelta(hours=10), midnight


def _run(
    conn: Connection, values: Mapping[str, Any], now: datetime, who: Principal = ANALYST
) -> pd.DataFrame:
    answer = SPEC.build(QueryContext(conn, who, now), parse_params(SPEC.params, values))
    rows = conn.execute(answer.statement).mappings().all()
    columns = ["id", "geom", *(c.name for c in answer.columns)]
    return pd.DataFrame([dict(r) for r in rows], columns=columns).set_index("id").sort_index()


def _offline_since(latest: Any, history: pd.DataFrame, now: datetime) -> datetime | None:
    if pd.isna(latest.status):
        return latest.created_at  # type: ignore[no-any-return]
    if latest.status == "offline":
        history = history[history.observed_at <= latest.observed_at]
        online = history[history.status != "offline"].observed_at
        run = history[
            (history.status == "offline") & ((history.observed_at > online.max()) if len(online) else True)
        ]
        return run.observed_at.min() if len(run) else latest.observed_at  # type: ignore[no-any-return]
    return latest.observed_at if latest.observed_at < now - STALE_AFTER else None


def _daily_amounts(obs: pd.DataFrame) -> pd.Series:
    """Each taxpayer's amount per Ambon day: the last value it reported that day."""
    valued = obs[obs.value.notna()].sort_values("observed_at")
    day = (valued.observed_at.dt.tz_convert("UTC") + WIT).dt.date
    return valued.groupby([valued.asset_id, day.rename("day")]).value.last()


def _judge(days: pd.Series, today: date, window: int) -> tuple[date | None, float, float]:
    """Return the judged day, its amount and the median of the days before it (NaN below the minimum)."""
    recent = days[[today - timedelta(days=window) <= d < today for d in days.index]]
    if recent.empty:
        return None, float("nan"), float("nan")
    judged = max(recent.index)
    history = days[[judged - timedelta(days=window) <= d < judged for d in days.index]]
    median = float(np.median(history)) if len(history) >= MIN_HISTORY else float("nan")
    return judged, float(days[judged]), median


def _expected(
    conn: Connection, now: datetime, offline_days: float, share: float, window: int
) -> pd.DataFrame:
    """Flag every taxpayer in pandas from the raw rows; return the flagged ones with their figures."""
    latest = pd.DataFrame(
        conn.execute(
            select(
                assets.c.id,
                assets.c.created_at,
                asset_status.c.status,
                asset_status.c.value,
                asset_status.c.observed_at,
            )
            .select_from(assets.outerjoin(asset_status, asset_status.c.asset_id == assets.c.id))
            .where(assets.c.layer_id == "taxpayers")
        )
        .mappings()
        .all()
    ).set_index("id")
    obs = pd.DataFrame(
        conn.execute(
            select(
                observations.c.asset_id,
                observations.c.status,
                observations.c.value,
                observations.c.observed_at,
            )
            .join(assets, assets.c.id == observations.c.asset_id)
            .where(assets.c.layer_id == "taxpayers")
        )
        .mappings()
        .all()
    )
    groups = dict(tuple(obs.groupby("asset_id")))
    today = (now + WIT).date()
    daily = _daily_amounts(obs[obs.observed_at < now])
    by_asset = {k: v.droplevel(0) for k, v in daily.groupby(level=0)}
    empty = obs.iloc[0:0]
    out = []
    for asset_id, row in latest.iterrows():
        history = groups.get(asset_id, empty)
        since = _offline_since(row, history, now)
        days = (now - since).total_seconds() / 86400 if since is not None else float("nan")
        judged, amount, median = _judge(by_asset.get(asset_id, pd.Series(dtype=float)), today, window)
        low = bool(median > 0 and amount < share * median)
        offline = bool(days > offline_days)
        if low or offline:
            reason = "both" if low and offline else "offline" if offline else "low_amount"
            out.append(
                {
                    "id": asset_id,
                    "reason": reason,
                    "offline_since": since,
                    "days_offline": days,
                    "day": judged.isoformat() if judged else None,
                    "day_amount": amount,
                    "median_daily_amount": median,
                }
            )
    return pd.DataFrame(out).set_index("id").sort_index()


def _taxpayer(conn: Connection, n: int) -> int:
    """Insert a taxpayer with no history."""
    props = {
        "nop": f"81.71.990.001.001-{n:04d}.0",
        "business_name": f"Usaha uji {n}",
        "category": "restoran",
        "tapping_box_id": f"TB-TEST-{n}",
    }
    return int(
        conn.execute(
            insert(assets)
            .values(
                layer_id="taxpayers",
                external_id=props["nop"],
                name=f"Uji {n}",
                agency="bpprd",
                geom=func.ST_SetSRID(func.ST_MakePoint(128.18, -3.70), 4326),
                properties=props,
            )
            .returning(assets.c.id)
        ).scalar_one()
    )


def _report(conn: Connection, asset_id: int, steps: Sequence[Step]) -> None:
    """Report (observed_at, status, amount) triples for one taxpayer."""
    reports = [
        StatusReport(status=s, observed_at=at, source="test", asset_id=asset_id, value=v)
        for at, s, v in steps
    ]
    assert all(r.outcome == "accepted" for r in write_reports(conn, OPERATOR, reports))


def _days(midnight: datetime, amounts: Mapping[int, float]) -> list[Step]:
    """Hourly-ish running totals through each local day, given {days before today: the day's amount}."""
    return [
        (midnight - d * DAY + timedelta(hours=h), "online", round(amount * part, -2))
        for d, amount in sorted(amounts.items(), reverse=True)
        for h, part in THROUGH_THE_DAY
    ]


def _at(midnight: datetime, days_ago: int, hour: float) -> datetime:
    return midnight - days_ago * DAY + timedelta(hours=hour)


def _scenarios(conn: Connection, midnight: datetime) -> dict[str, int]:
    """Taxpayers with 20-day histories: steady, dropped, recovered, offline, back, both, silent, new."""
    names = [
        "steady",
        "dropped",
        "recovered",
        "corrected",
        "offline",
        "back",
        "both",
        "silent",
        "two",
        "three",
    ]
    ids = {name: _taxpayer(conn, n) for n, name in enumerate(names)}
    usual = {d: 1_000_000.0 + 10_000 * d for d in range(20, 0, -1)}
    older = {d: a for d, a in usual.items() if d >= 7}
    # This morning's running total is far below a whole day's, and today is never judged.
    morning = (_at(midnight, 0, 8), "online", 150_000.0)
    _report(conn, ids["steady"], [*_days(midnight, usual), morning])
    _report(conn, ids["dropped"], [*_days(midnight, {**usual, 1: 200_000.0}), morning])
    # A big drop three days ago, then a normal day: yesterday is judged, and it is fine.
    _report(conn, ids["recovered"], [*_days(midnight, {**usual, 3: 150_000.0}), morning])
    # A voided bill lowers yesterday's running total late: the day closes on its last value, not its highest.
    late = [(_at(midnight, 1, 12), "online", 1_200_000.0), (_at(midnight, 1, 23.5), "online", 400_000.0)]
    _report(conn, ids["corrected"], [*_days(midnight, {d: a for d, a in usual.items() if d > 1}), *late])
    offline_run = [(_at(midnight, d, h), "offline", None) for d, h in ((5, 12), (3, 12), (0, 8))]
    _report(conn, ids["offline"], [*_days(midnight, older), *offline_run])
    # Back online yesterday evening only, then offline again; the box reports this morning.
    back = [(_at(midnight, 5, 12), "offline", None), (_at(midnight, 1, 20), "online", 300_000.0)]
    _report(
        conn, ids["back"], [*_days(midnight, older), *back, (_at(midnight, 1, 21), "offline", None), morning]
    )
    _report(conn, ids["both"], _days(midnight, {**older, 5: 100_000.0}))  # low, then silent
    _report(conn, ids["silent"], _days(midnight, {d: a for d, a in usual.items() if d >= 5}))
    # Too little history for a median with two days before the drop; enough with three.
    _report(conn, ids["two"], [*_days(midnight, {3: 1e6, 2: 1e6, 1: 1e5}), morning])
    _report(conn, ids["three"], [*_days(midnight, {4: 1e6, 3: 1e6, 2: 1e6, 1: 1e5}), morning])
    return ids


def test_built_histories_get_the_expected_reasons(conn: Connection) -> None:
    now, midnight = _clock()
    ids = _scenarios(conn, midnight)
    got = _run(conn, {"offline_days": "3"}, now)
    for name in ("steady", "recovered", "two"):
        assert ids[name] not in got.index, name
    yesterday = (midnight + WIT - DAY).date().isoformat()
    assert got.loc[ids["dropped"], "reason"] == "low_amount"
    assert got.loc[ids["dropped"], "day"] == yesterday
    assert got.loc[ids["dropped"], "day_amount"] == 200_000.0
    assert got.loc[ids["dropped"], "median_daily_amount"] == 1_000_000.0 + 10_000 * 11  # days 2..20
    assert got.loc[ids["corrected"], "reason"] == "low_amount"
    assert got.loc[ids["corrected"], "day_amount"] == 400_000.0
    assert got.loc[ids["offline"], "reason"] == "offline"
    assert got.loc[ids["offline"], "offline_since"] == _at(midnight, 5, 12)
    assert got.loc[ids["silent"], "offline_since"] == _at(midnight, 5, 22)
    # "back" came back online, so only its amount (a short evening) is low now.
    assert got.loc[ids["back"], "reason"] == "low_amount"
    assert got.loc[ids["back"], "day_amount"] == 300_000.0
    assert got.loc[ids["both"], "reason"] == "both"
    assert got.loc[ids["three"], "reason"] == "low_amount"


def test_a_box_silent_longer_than_the_window_is_not_judged_on_amount(conn: Connection) -> None:
    now, midnight = _clock()
    ids = _scenarios(conn, midnight)
    got = _run(conn, {"window_days": "7"}, now)
    assert got.loc[ids["offline"], "day"] == (midnight + WIT - 7 * DAY).date().isoformat()
    gone = _taxpayer(conn, 99)
    _report(conn, gone, _days(midnight, {d: 1e6 if d > 8 else 1e5 for d in range(20, 7, -1)}))
    judged = _run(conn, {"window_days": "30"}, now).loc[gone]
    assert judged.reason == "both"
    not_judged = _run(conn, {"window_days": "7"}, now).loc[gone]
    assert not_judged.reason == "offline"
    assert pd.isna(not_judged.day)
    assert pd.isna(not_judged.median_daily_amount)


@pytest.mark.parametrize(
    ("offline_days", "share", "window"), [(3, 0.5, 30), (0.5, 0.9, 7), (4.5, 0.2, 90), (1, 1.0, 14)]
)
def test_flags_match_pandas(conn: Connection, offline_days: float, share: float, window: int) -> None:
    now, midnight = _clock()
    _scenarios(conn, midnight)
    got = _run(conn, {"offline_days": offline_days, "share": share, "window_days": window}, now)
    expected = _expected(conn, now, offline_days, share, window)
    assert (expected.reason != "offline").any()
    assert got.index.tolist() == expected.index.tolist()
    assert got.reason.tolist() == expected.reason.tolist()
    assert (got.offline_since.isna() == expected.offline_since.isna()).all()
    known = expected.offline_since.notna()
    assert (got.offline_since[known] == expected.offline_since[known]).all()
    assert got.day.fillna("").tolist() == expected.day.fillna("").tolist()
    for column in ("days_offline", "day_amount", "median_daily_amount"):
        np.testing.assert_allclose(
            got[column].astype(float), expected[column], rtol=1e-9, equal_nan=True, err_msg=column
        )
    np.testing.assert_allclose(
        got.share_of_median.astype(float),
        expected.day_amount / expected.median_daily_amount,
        rtol=1e-9,
        equal_nan=True,
    )


def test_operator_gets_the_rows_without_amounts(conn: Connection) -> None:
    now, midnight = _clock()
    _scenarios(conn, midnight)
    analyst = _run(conn, {}, now, ANALYST)
    operator = _run(conn, {}, now, OPERATOR)
    assert set(AMOUNTS) <= set(analyst.columns)
    assert not set(AMOUNTS) & set(operator.columns)
    assert operator.index.tolist() == analyst.index.tolist()
    assert operator.reason.tolist() == analyst.reason.tolist()


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (["bpprd-operator"], True),
        (["bpprd-analyst"], True),
        (["kominfo-supervisor"], False),  # sees the taxpayers layer, not this query
        (["dlhp-operator"], False),
        (["pupr-admin"], False),
    ],
)
def test_only_bpprd_may_run_it(conn: Connection, roles: list[str], allowed: bool) -> None:
    principal = principal_for("x", roles, kind="user")
    assert may_read(principal, SPEC) is allowed
    assert not may_read(ANONYMOUS, SPEC)
    if not allowed:  # even when called directly, the statement returns nothing
        assert _run(conn, {"offline_days": "0.5", "share": "1"}, datetime.now(UTC), principal).empty


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"offline_days": "0.1"}, "offline_days"),
        ({"offline_days": "91"}, "offline_days"),
        ({"share": "0"}, "share"),
        ({"share": "1.5"}, "share"),
        ({"share": "half"}, "share"),
        ({"window_days": "6"}, "window_days"),
        ({"window_days": "7.5"}, "window_days"),
        ({"window_days": "365"}, "window_days"),
        ({"nop": "1"}, "nop"),
    ],
)
def test_bad_parameters_are_refused_in_both_languages(values: dict[str, str], name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPEC.params, values)
    assert caught.value.message_en.startswith(f"{name}: ")
    assert caught.value.message_id.startswith(f"{name}: ")
    assert caught.value.message_en != caught.value.message_id
