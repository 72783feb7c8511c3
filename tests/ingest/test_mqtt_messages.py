"""Reading MQTT status messages: topics and payloads that become reports, and the reasons others do not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.mqtt_messages import Unreadable, read_message

TOPIC = "kendali/dumping_points/TPS-001/status"
AT = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
WIT = timezone(timedelta(hours=9))
GOOD = json.dumps(
    {"status": "full", "value": 91.5, "observed_at": AT.astimezone(WIT).isoformat(), "details": {"k": 1}}
)
RECENT = AT.isoformat().replace("+00:00", "Z").encode()


def test_good_message_becomes_a_report_by_layer_and_external_id() -> None:
    report = read_message(TOPIC, GOOD.encode(), prefix="kendali", max_bytes=4096)
    assert not isinstance(report, Unreadable)
    assert (report.layer_id, report.external_id, report.status, report.value) == (
        "dumping_points",
        "TPS-001",
        "full",
        91.5,
    )
    assert report.observed_at == AT and report.observed_at.tzinfo == UTC
    assert (report.source, dict(report.details)) == ("mqtt", {"k": 1})


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("other/dumping_points/TPS-001/status", GOOD.encode(), "topic must be"),
        ("kendali/dumping_points/TPS-001", GOOD.encode(), "topic must be"),
        ("kendali/districts/D-1/status", GOOD.encode(), "unknown layer"),
        (TOPIC, b"\xff\xfe", "not UTF-8"),
        (TOPIC, b"[1, 2]", "JSON object"),
        (TOPIC, b"[" * 4000, "not valid JSON"),
        (TOPIC, b"x" * 5000, "larger than"),
        (TOPIC, b'{"status": "full", "observed_at": "2025-05-01T08:00:00"}', "observed_at"),
        (TOPIC, b'{"status": "full", "observed_at": "' + RECENT + b'", "colour": 1}', "colour"),
        (TOPIC, b'{"status": "", "observed_at": "2025-05-01T08:00:00Z"}', "status"),
        (
            TOPIC,
            b'{"status": "full", "observed_at": "' + RECENT + b'", "details": {"a": "\\u0000"}}',
            "cannot be stored",
        ),
        (
            TOPIC,
            b'{"status": "full", "observed_at": "'
            + RECENT
            + b'", "details": '
            + b'{"a": ' * 8
            + b"1"
            + b"}" * 9,
            "deeper",
        ),
    ],
    ids=[
        "prefix",
        "shape",
        "no-status-layer",
        "utf8",
        "array",
        "deep-json",
        "size",
        "naive-time",
        "extra-field",
        "empty-status",
        "nul",
        "deep-details",
    ],
)
def test_unreadable_message_says_why(topic: str, payload: bytes, reason: str) -> None:
    result = read_message(topic, payload, prefix="kendali", max_bytes=4096)
    assert isinstance(result, Unreadable)
    assert reason in result.reason
