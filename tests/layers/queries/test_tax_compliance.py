"""Tax compliance flags against the same flags computed with pandas/numpy from the raw observations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Connection, func, insert, select

from layers.catalog.taxpayers import LAYER
from layers.errors import InvalidInput
from layers.policy import ANONYMOUS, Principal, may_read, principal_for
from layers.queries.catalog.tax_compliance import QUERIES
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.status import StatusReport, write_reports
from layers.tables import asset_status, assets, observations

SPEC = QUERIES[0]
ANALYST = principal_for("analis", ["bpprd-analyst"], kind="user")
OPERATOR = principal_for("operator", ["bpprd-operator"], kind="user")
AMOUNTS = ("latest_amount", "median_amount", "share_of_median")
STALE_AFTER = LAYER.status.stale_after  # type: ignore[union-attr]


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


def _median(latest: Any, history: pd.DataFrame, window_days: int) -> float:
    start = latest.observed_at - timedelta(days=window_days)
    past = history[(history.observed_at >= start) & (history.observed_at < latest.observed_at)].value.dropna()
    return float(np.median(past)) if len(past) else float("nan")


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
    empty = obs.iloc[0:0]
    out = []
    for asset_id, row in latest.iterrows():
        history = groups.get(asset_id, empty)
        since = _offline_since(row, history, now)
        days = (now - since).total_seconds() / 86400 if since is not None else float("nan")
        median = _median(row, history, window) if not pd.isna(row.status) else float("nan")
        low = bool(row.value == row.value and median > 0 and row.value < share * median)
        offline = bool(days > offline_days)
        if low or offline:
            reason = "both" if low and offline else "offline" if offline else "low_amount"
            out.append(
                {
                    "id": asset_id,
                    "reason": reason,
                    "offline_since": since,
                    "days_offline": days,
                    "latest_amount": row.value,
                    "median_amount": median,
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


def _report(
    conn: Connection, asset_id: int, now: datetime, steps: Sequence[tuple[float, str, float | None]]
) -> None:
    """Report (days ago, status, amount) triples for one taxpayer."""
    reports = [
        StatusReport(status=s, observed_at=now - timedelta(days=d), source="test", asset_id=asset_id, value=v)
        for d, s, v in steps
    ]
    assert all(r.outcome == "accepted" for r in write_reports(conn, OPERATOR, reports))


def _scenarios(conn: Connection, now: datetime) -> dict[str, int]:
    """Taxpayers with 20-day histories: steady, dropped, offline, back online low, both, silent."""
    ids = {
        name: _taxpayer(conn, n)
        for n, name in enumerate(["steady", "dropped", "offline", "back", "both", "silent"])
    }
    daily = [(float(d), "online", 1_000_000.0 + 10_000 * d) for d in range(20, 0, -1)]
    _report(conn, ids["steady"], now, [*daily, (0.01, "online", 950_000.0)])
    _report(conn, ids["dropped"], now, [*daily, (0.01, "online", 200_000.0)])
    offline_run = [(5.0, "offline", None), (3.0, "offline", None), (0.01, "offline", None)]
    _report(conn, ids["offline"], now, [*daily[:14], *offline_run])
    _report(conn, ids["back"], now, [*daily[:14], (5.0, "offline", None), (0.01, "online", 100_000.0)])
    _report(conn, ids["both"], now, [*daily[:14], (5.0, "online", 100_000.0)])  # low, then silent
    _report(conn, ids["silent"], now, daily[:16])  # last report 5 days ago, online
    return ids


def test_built_histories_get_the_expected_reasons(conn: Connection) -> None:
    now = datetime.now(UTC)
    ids = _scenarios(conn, now)
    got = _run(conn, {"offline_days": "3"}, now)
    assert ids["steady"] not in got.index
    assert got.loc[ids["dropped"], "reason"] == "low_amount"
    assert got.loc[ids["offline"], "reason"] == "offline"
    assert got.loc[ids["offline"], "offline_since"] == now - timedelta(days=5)
    assert got.loc[ids["silent"], "offline_since"] == now - timedelta(days=5)
    # "back" came back online, so only its amount is low now.
    assert got.loc[ids["back"], "reason"] == "low_amount"
    assert got.loc[ids["both"], "reason"] == "both"


@pytest.mark.parametrize(
    ("offline_days", "share", "window"), [(3, 0.5, 30), (0.5, 0.9, 7), (4.5, 0.2, 90), (1, 1.0, 14)]
)
def test_flags_match_pandas(conn: Connection, offline_days: float, share: float, window: int) -> None:
    now = datetime.now(UTC)
    _scenarios(conn, now)
    got = _run(conn, {"offline_days": offline_days, "share": share, "window_days": window}, now)
    expected = _expected(conn, now, offline_days, share, window)
    assert len(expected) > 0
    assert got.index.tolist() == expected.index.tolist()
    assert got.reason.tolist() == expected.reason.tolist()
    assert (got.offline_since.isna() == expected.offline_since.isna()).all()
    known = expected.offline_since.notna()
    assert (got.offline_since[known] == expected.offline_since[known]).all()
    np.testing.assert_allclose(
        got.days_offline.astype(float), expected.days_offline, rtol=1e-9, equal_nan=True
    )
    np.testing.assert_allclose(
        got.median_amount.astype(float), expected.median_amount, rtol=1e-9, equal_nan=True
    )
    np.testing.assert_allclose(
        got.share_of_median.astype(float),
        expected.latest_amount / expected.median_amount,
        rtol=1e-9,
        equal_nan=True,
    )


def test_operator_gets_the_rows_without_amounts(conn: Connection) -> None:
    now = datetime.now(UTC)
    _scenarios(conn, now)
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
