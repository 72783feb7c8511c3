"""The one reader of status reports: reasons naming the field, defaults, the transport's target, limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from layers.live.report_input import MAX_DETAILS_BYTES, MAX_DETAILS_DEPTH, BadReport, read_report
from layers.live.status import StatusReport

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
GOOD = {"asset_id": 7, "status": "full", "observed_at": "2025-03-01T08:00:00+09:00"}


def nested(levels: int) -> dict[str, Any]:
    """Return details nested `levels` objects deep (the details object itself is level 1)."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def read(item: object, **kw: Any) -> StatusReport | BadReport:
    return read_report(item, source=kw.pop("source", "key:test"), now=kw.pop("now", NOW), **kw)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"observed_at": None}, "observed_at"),
        ({"observed_at": "2025-03-01T08:00:00"}, "observed_at"),
        ({"observed_at": "2025-03-01"}, "observed_at"),
        ({"observed_at": 1740780000}, "observed_at"),
        ({"observed_at": "2025-03-02T08:00:00+09:00"}, "observed_at"),
        ({"observed_at": "2023-03-01T08:00:00+09:00"}, "observed_at"),
        ({"status": None}, "status"),
        ({"status": "x" * 65}, "status"),
        ({"status": "fu\x00ll"}, "status"),
        ({"value": "90"}, "value"),
        ({"value": True}, "value"),
        ({"value": 10**400}, "value"),
        ({"value": float("nan")}, "value"),
        ({"asset_id": "7"}, "asset_id"),
        ({"asset_id": 0}, "asset_id"),
        ({"asset_id": None}, "asset_id"),
        ({"details": [1, 2]}, "details"),
        ({"details": nested(MAX_DETAILS_DEPTH + 1)}, "details"),
        ({"details": {"note": "x" * MAX_DETAILS_BYTES}}, "details"),
        ({"details": {"bad": float("nan")}}, "details"),
        ({"details": {"nul": "a\x00b"}}, "details"),
        ({"details": {"half": "\ud800"}}, "details"),
        ({"source": ""}, "source"),
        ({"observedAt": "2025-03-01T08:00:00Z"}, "observedAt"),
    ],
)
def test_a_malformed_report_gets_a_reason_naming_its_field(change: dict[str, object], field: str) -> None:
    bad = read({k: v for k, v in (GOOD | change).items() if v is not None})
    assert isinstance(bad, BadReport)
    assert field in bad.en and field in bad.id and bad.en != bad.id


def test_details_may_nest_as_deep_as_the_one_limit() -> None:
    report = read(GOOD | {"details": nested(MAX_DETAILS_DEPTH)})
    assert isinstance(report, StatusReport) and MAX_DETAILS_DEPTH == 6


def test_a_report_by_external_id_takes_the_default_source_and_utc_time() -> None:
    item = {
        "layer": "dumping_points",
        "external_id": "TPS-1",
        "status": "full",
        "observed_at": GOOD["observed_at"],
    }
    report = read(item, source="key:dlhp")
    assert isinstance(report, StatusReport)
    assert (report.asset_id, report.layer_id, report.external_id) == (None, "dumping_points", "TPS-1")
    assert report.source == "key:dlhp"
    assert report.observed_at == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("named", [{"asset_id": 7}, {"layer": "cctv"}, {"source": "spoofed"}])
def test_when_the_transport_names_the_asset_the_item_may_not(named: dict[str, object]) -> None:
    item = {"status": "full", "observed_at": GOOD["observed_at"]} | named
    bad = read(item, source="mqtt", target=("dumping_points", "TPS-1"))
    assert isinstance(bad, BadReport) and "unknown fields" in bad.en


def test_an_external_id_the_transport_names_is_bounded_too() -> None:
    bad = read({"status": "full", "observed_at": GOOD["observed_at"]}, target=("dumping_points", "x" * 201))
    assert isinstance(bad, BadReport) and "external_id" in bad.en


def test_an_aware_instant_computed_by_a_poller_is_taken_as_it_is() -> None:
    at = NOW - timedelta(minutes=1)
    report = read({"status": "up", "observed_at": at}, source="feed", target=("city_apps", "simak"))
    assert isinstance(report, StatusReport) and report.observed_at == at and report.source == "feed"
