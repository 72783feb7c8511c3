"""One reader for every way in: the same malformed report is refused with the same reason over HTTP push,
MQTT and a poller's JSON mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection

from ingest.http_push import push_status
from ingest.mqtt_messages import Unreadable, read_message, topic_for
from ingest.poll_mapping import map_document
from ingest.poller_config import JsonMapping
from layers.access.policy import principal_for
from layers.catalog import LAYERS
from layers.live.report_input import MAX_DETAILS_DEPTH

NOW = datetime.now(UTC).replace(microsecond=0)
LAYER = "dumping_points"
DLHP = principal_for("key:reasons", ["dlhp-operator"], kind="key")


def over_http(conn: Connection, external_id: str, fields: dict[str, Any]) -> str | None:
    body = json.dumps([{"layer": LAYER, "external_id": external_id, **fields}]).encode()
    return push_status(conn, DLHP, body).verdicts[0].reason_en


def over_mqtt(external_id: str, fields: dict[str, Any]) -> str | None:
    read = read_message(
        topic_for("kendali", LAYER, external_id),
        json.dumps(fields).encode(),
        prefix="kendali",
        max_bytes=16_384,
    )
    return read.reason if isinstance(read, Unreadable) else None


def over_poller(external_id: str, fields: dict[str, Any]) -> str | None:
    mapping = JsonMapping(external_id="id", status="status", value="value", observed_at="observed_at")
    statuses = LAYERS[LAYER].status.values  # type: ignore[union-attr]
    reports, problems = map_document(
        [{"id": external_id, **fields}],
        mapping,
        layer_id=LAYER,
        statuses=statuses,
        source="feed",
        fetched_at=NOW,
    )
    assert not reports
    return problems[0].removeprefix("item 0: ")


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


GOOD = {"status": "full", "observed_at": NOW.isoformat()}
EVERY_WAY = [
    ("TPS-" + "x" * 200, GOOD),
    ("TPS-1", GOOD | {"observed_at": (NOW + timedelta(hours=1)).isoformat()}),
    ("TPS-1", GOOD | {"value": float("nan")}),
]
PUSHED_WAYS = [
    ("TPS-1", GOOD | {"details": deep(MAX_DETAILS_DEPTH + 1)}),
    ("TPS-1", GOOD | {"observed_at": NOW.replace(tzinfo=None).isoformat()}),
    ("TPS-1", GOOD | {"details": {"note": "a\x00b"}}),
]


@pytest.mark.parametrize(("external_id", "fields"), EVERY_WAY, ids=["long-id", "future", "nan"])
def test_http_mqtt_and_pollers_refuse_a_report_for_the_same_reason(
    conn: Connection, external_id: str, fields: dict[str, Any]
) -> None:
    reason = over_http(conn, external_id, fields)
    assert reason and reason == over_mqtt(external_id, fields) == over_poller(external_id, fields)


@pytest.mark.parametrize(("external_id", "fields"), PUSHED_WAYS, ids=["deep-details", "naive-time", "nul"])
def test_http_and_mqtt_refuse_a_pushed_report_for_the_same_reason(
    conn: Connection, external_id: str, fields: dict[str, Any]
) -> None:
    reason = over_http(conn, external_id, fields)
    assert reason and reason == over_mqtt(external_id, fields)
