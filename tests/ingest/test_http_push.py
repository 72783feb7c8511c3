"""Parsing pushed status batches: whole-body refusals, per-report reasons, defaults and bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingest.http_push import (
    MAX_DETAILS_BYTES,
    BadReport,
    BatchTooLarge,
    check_reporter,
    parse_body,
    to_report,
)
from layers.access.policy import ANONYMOUS, principal_for
from layers.errors import Forbidden, InvalidInput, Unauthorized

GOOD = {"asset_id": 7, "status": "full", "observed_at": "2025-03-01T08:00:00+09:00"}


@pytest.mark.parametrize("body", [[GOOD, GOOD], {"reports": [GOOD]}, []])
def test_a_batch_is_an_array_or_an_object_with_reports(body: object) -> None:
    assert parse_body(json.dumps(body).encode()) == (body["reports"] if isinstance(body, dict) else body)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b'"text"', b"42", b'{"report": []}', b'{"reports": 3}', b"[" * 40 + b"]" * 40, b"\xff\xfe"],
)
def test_a_body_that_is_no_batch_is_refused_whole(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_body(raw)


def test_more_than_ten_thousand_reports_are_refused() -> None:
    with pytest.raises(BatchTooLarge):
        parse_body(json.dumps([{}] * 10_001).encode())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"observed_at": None}, "observed_at"),
        ({"observed_at": "2025-03-01T08:00:00"}, "observed_at"),
        ({"observed_at": "2025-03-01"}, "observed_at"),
        ({"observed_at": 1740780000}, "observed_at"),
        ({"status": None}, "status"),
        ({"status": "x" * 65}, "status"),
        ({"status": "fu\x00ll"}, "status"),
        ({"value": "90"}, "value"),
        ({"value": True}, "value"),
        ({"value": 10**400}, "value"),
        ({"asset_id": "7"}, "asset_id"),
        ({"asset_id": 0}, "asset_id"),
        ({"asset_id": None}, "asset_id"),
        ({"details": [1, 2]}, "details"),
        ({"details": {"a": {"b": {"c": {"d": {"e": 1}}}}}}, "details"),
        ({"details": {"note": "x" * MAX_DETAILS_BYTES}}, "details"),
        ({"details": {"bad": float("nan")}}, "details"),
        ({"details": {"nul": "a\x00b"}}, "details"),
        ({"source": ""}, "source"),
        ({"observedAt": "2025-03-01T08:00:00Z"}, "observedAt"),
    ],
)
def test_a_malformed_report_gets_a_reason_naming_its_field(change: dict[str, object], field: str) -> None:
    item = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(BadReport) as caught:
        to_report(item, "key:test")
    assert field in caught.value.en and field in caught.value.id


def test_a_report_by_external_id_takes_the_key_name_as_source_and_utc_time() -> None:
    item = {
        "layer": "dumping_points",
        "external_id": "TPS-1",
        "status": "full",
        "observed_at": GOOD["observed_at"],
    }
    report = to_report(item, "key:dlhp")
    assert (report.asset_id, report.layer_id, report.external_id) == (None, "dumping_points", "TPS-1")
    assert report.source == "key:dlhp"
    assert report.observed_at == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("principal", "error"),
    [(ANONYMOUS, Unauthorized), (principal_for("key:x", ["dishub-viewer"], kind="key"), Forbidden)],
)
def test_only_callers_who_may_report_for_some_layer_may_push(
    principal: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_reporter(principal)  # type: ignore[arg-type]
