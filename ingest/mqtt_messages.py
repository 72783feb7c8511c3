"""Reading MQTT status messages: topic `{prefix}/{layer}/{external_id}/status`, a small JSON payload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from layers.catalog import LAYERS
from layers.json_input import nesting_exceeds
from layers.live.status import StatusReport

SOURCE = "mqtt"
MAX_EXTERNAL_ID = 200
MAX_DETAILS_DEPTH = 6


class StatusPayload(BaseModel):
    """The JSON body of one MQTT status message."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(min_length=1, max_length=64)
    value: float | None = None
    observed_at: AwareDatetime
    details: dict[str, Any] = Field(default_factory=dict)


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
    if not external_id or len(external_id) > MAX_EXTERNAL_ID:
        return Unreadable(f"external id must be 1..{MAX_EXTERNAL_ID} characters")
    return layer_id, external_id


def _payload(raw: bytes, max_bytes: int) -> StatusPayload | Unreadable:
    if len(raw) > max_bytes:
        return Unreadable(f"payload larger than {max_bytes} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Unreadable("payload is not UTF-8")
    except (ValueError, RecursionError):
        return Unreadable("payload is not valid JSON")
    if not isinstance(data, dict):
        return Unreadable("payload must be a JSON object")
    try:
        payload = StatusPayload.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:3]
        )
        return Unreadable(f"invalid payload: {problems}")
    if nesting_exceeds(payload.details, MAX_DETAILS_DEPTH):
        return Unreadable(f"details nest deeper than {MAX_DETAILS_DEPTH} levels")
    if "\\u0000" in raw.decode("utf-8"):
        return Unreadable("payload contains a NUL character")
    return payload


def read_message(topic: str, raw: bytes, *, prefix: str, max_bytes: int) -> StatusReport | Unreadable:
    """Turn one MQTT message into a status report, or say why it cannot be one."""
    target = _topic_target(topic, prefix)
    if isinstance(target, Unreadable):
        return target
    payload = _payload(raw, max_bytes)
    if isinstance(payload, Unreadable):
        return payload
    layer_id, external_id = target
    return StatusReport(
        status=payload.status,
        value=payload.value,
        observed_at=payload.observed_at,
        source=SOURCE,
        layer_id=layer_id,
        external_id=external_id,
        details=payload.details,
    )


def topic_for(prefix: str, layer_id: str, external_id: str) -> str:
    """Return the status topic of one asset."""
    return f"{prefix}/{layer_id}/{external_id}/status"
