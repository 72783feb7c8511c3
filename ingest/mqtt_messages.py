"""Reading MQTT status messages: topic `{prefix}/{layer}/{external_id}/status`, a small JSON payload.

The topic names the asset; the payload (status, value, observed_at, details) is read by
layers.live.report_input, the one reader of reports, with its limits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from paho.mqtt.client import topic_matches_sub

from layers.catalog import LAYERS
from layers.live.report_input import BadReport, read_report
from layers.live.status import StatusReport

SOURCE = "mqtt"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why a message cannot become a status report."""

    reason: str


def _topic_target(topic: str, prefix: str) -> tuple[str, str] | Unreadable:
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != prefix or parts[3] != "status":
        return Unreadable(f"topic must be {prefix}/{{layer}}/{{external_id}}/status")
    layer_id, external_id = parts[1], parts[2]
    spec = LAYERS.get(layer_id)
    if spec is None or spec.status is None:
        return Unreadable(f"unknown layer or layer without live status: {layer_id[:64]!r}")
    return layer_id, external_id


def _payload(raw: bytes, max_bytes: int) -> object:
    """Return the decoded JSON payload, or Unreadable."""
    if len(raw) > max_bytes:
        return Unreadable(f"payload larger than {max_bytes} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Unreadable("payload is not UTF-8")
    except (ValueError, RecursionError):
        return Unreadable("payload is not valid JSON")


def read_message(topic: str, raw: bytes, *, prefix: str, max_bytes: int) -> StatusReport | Unreadable:
    """Turn one MQTT message into a status report, or say why it cannot be one."""
    target = _topic_target(topic, prefix)
    if isinstance(target, Unreadable):
        return target
    payload = _payload(raw, max_bytes)
    if isinstance(payload, Unreadable):
        return payload
    read = read_report(payload, source=SOURCE, target=target)
    return Unreadable(read.en) if isinstance(read, BadReport) else read


OUTSIDE_TOPIC_SCOPE = "topic is not one of the topic filters the ingest key may receive on (its topic scope)"


def topic_allowed(topic: str, filters: Sequence[str] | None) -> bool:
    """Return whether a message's topic matches one of a key's MQTT topic filters (None: any topic)."""
    return filters is None or any(topic_matches_sub(f, topic) for f in filters)


def topic_for(prefix: str, layer_id: str, external_id: str) -> str:
    """Return the status topic of one asset."""
    return f"{prefix}/{layer_id}/{external_id}/status"
