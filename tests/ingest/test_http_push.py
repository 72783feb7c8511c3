"""Parsing pushed status batches: whole-body refusals and who may push (reports: test_report_input.py)."""

from __future__ import annotations

import json

import pytest

from ingest.http_push import BatchTooLarge, check_reporter, parse_body
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
    ("principal", "error"),
    [(ANONYMOUS, Unauthorized), (principal_for("key:x", ["dishub-viewer"], kind="key"), Forbidden)],
)
def test_only_callers_who_may_report_for_some_layer_may_push(
    principal: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_reporter(principal)  # type: ignore[arg-type]
