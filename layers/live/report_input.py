"""The one reader of a status report, whatever brought it (HTTP push, MQTT, a poller): one raw mapping in,
a StatusReport or a bilingual reason out. Every bound on a report lives here.

What needs the stored asset (it exists, the caller may report for it, the status is in the layer's
vocabulary, the value in its range) is checked by the write path, layers.live.status.write_reports.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from layers.json_input import nesting_exceeds
from layers.live.status import StatusReport

MAX_DETAILS_DEPTH: Final = 6
MAX_DETAILS_BYTES: Final = 4_096
MAX_ASSET_ID: Final = 2**63 - 1
TEXT_LIMITS: Final = {"layer": 64, "external_id": 200, "status": 64, "source": 100, "observed_at": 64}
PAYLOAD_FIELDS: Final = frozenset({"status", "value", "observed_at", "details"})
FIELDS: Final = PAYLOAD_FIELDS | {"asset_id", "layer", "external_id", "source"}


class ReportBounds(BaseSettings):
    """How far from now a report's `observed_at` may lie (KENDALI_REPORT_*): devices' clocks drift, a
    site with poorly synchronised clocks may allow more skew."""

    model_config = SettingsConfigDict(env_prefix="KENDALI_REPORT_", env_file=".env", extra="ignore")

    max_past_days: int = Field(400, ge=1, le=3_650)
    max_future_s: int = Field(300, ge=0, le=86_400)


@cache
def report_bounds() -> ReportBounds:
    """Return the bounds every ingest process reads once from its environment."""
    return ReportBounds()


@dataclass(frozen=True, slots=True)
class BadReport:
    """Why one report cannot be read, in English and Indonesian."""

    en: str
    id: str

    def message(self, lang: str) -> str:
        """Return the reason in `lang` (Indonesian unless "en")."""
        return self.en if lang == "en" else self.id


class _Refused(Exception):
    def __init__(self, en: str, id_: str) -> None:
        super().__init__(en)
        self.bad = BadReport(en, id_)


def read_report(
    item: object, *, source: str, target: tuple[str, str] | None = None, now: datetime | None = None
) -> StatusReport | BadReport:
    """Return the report `item` describes, or why it cannot be one.

    A transport that names the asset outside the item (an MQTT topic, a poller's layer) passes it as
    `target` (layer, external id) and also fixes the `source`; the item then holds PAYLOAD_FIELDS only.
    Otherwise the item names its asset and may name its own source (`source` is the default).
    `observed_at` must lie within the ReportBounds of `now` (default: the clock).
    """
    try:
        return _read(item, source, target, now or datetime.now(UTC))
    except _Refused as refused:
        return refused.bad


def _read(item: object, source: str, target: tuple[str, str] | None, now: datetime) -> StatusReport:
    if not isinstance(item, Mapping):
        raise _Refused("a report must be a JSON object", "laporan harus berupa objek JSON")
    unknown = item.keys() - (FIELDS if target is None else PAYLOAD_FIELDS)
    if unknown:
        listed = ", ".join(sorted(map(str, unknown)))[:200]
        raise _Refused(f"unknown fields: {listed}", f"bidang tidak dikenal: {listed}")
    if target is None:
        asset_id, layer_id, external_id = _asset(item)
        source = _text(item, "source") or _given("source", source)
    else:
        asset_id = None
        layer_id, external_id = _given("layer", target[0]), _given("external_id", target[1])
        source = _given("source", source)
    return StatusReport(
        status=_text(item, "status", required=True) or "",
        observed_at=_instant(item.get("observed_at"), now),
        source=source,
        asset_id=asset_id,
        layer_id=layer_id,
        external_id=external_id,
        value=_value(item.get("value")),
        details=_details(item.get("details")),
    )


def _asset(item: Mapping[str, Any]) -> tuple[int | None, str | None, str | None]:
    """Return (asset id, layer, external id): an asset id, or a layer with an external id."""
    raw_id = item.get("asset_id")
    layer_id = _text(item, "layer")
    external_id = _text(item, "external_id")
    if raw_id is not None:
        if isinstance(raw_id, bool) or not isinstance(raw_id, int) or not 1 <= raw_id <= MAX_ASSET_ID:
            raise _Refused("asset_id must be a positive integer", "asset_id harus bilangan bulat positif")
        return raw_id, layer_id, external_id
    if layer_id is None or external_id is None:
        raise _Refused(
            "name the asset by asset_id, or by layer and external_id",
            "sebutkan aset dengan asset_id, atau dengan layer dan external_id",
        )
    return None, layer_id, external_id


def _given(name: str, value: str) -> str:
    """Return a text the transport supplies (a topic part, a poller's name), bounded like the item's own."""
    found = _text({name: value}, name, required=True)
    return found or ""


def _text(item: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = item.get(name)
    if value is None:
        if required:
            raise _Refused(f"{name} is required", f"{name} wajib diisi")
        return None
    limit = TEXT_LIMITS[name]
    if not isinstance(value, str) or not 1 <= len(value) <= limit or not _storable(value):
        raise _Refused(
            f"{name} must be text of 1 to {limit} characters",
            f"{name} harus berupa teks 1 sampai {limit} karakter",
        )
    return value


def _storable(text: str) -> bool:
    """Return whether PostgreSQL can store `text` (no NUL, no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _instant(value: object, now: datetime) -> datetime:
    """Return an aware instant in UTC from an RFC 3339 text (or an aware datetime a poller computed)."""
    instant: datetime | None = value if isinstance(value, datetime) else None
    if isinstance(value, str) and 10 <= len(value) <= TEXT_LIMITS["observed_at"] and "T" in value.upper():
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            instant = None
    if instant is None or instant.tzinfo is None:
        raise _Refused(
            "observed_at must be an RFC 3339 date-time with a time zone, e.g. 2025-01-31T08:00:00+09:00",
            "observed_at harus tanggal-waktu RFC 3339 dengan zona waktu, mis. 2025-01-31T08:00:00+09:00",
        )
    bounds = report_bounds()
    past, future = timedelta(days=bounds.max_past_days), timedelta(seconds=bounds.max_future_s)
    if not now - past <= instant <= now + future:
        raise _Refused(
            f"observed_at must lie within {bounds.max_past_days} days before and "
            f"{bounds.max_future_s} seconds after now",
            f"observed_at harus dalam {bounds.max_past_days} hari sebelum dan "
            f"{bounds.max_future_s} detik sesudah saat ini",
        )
    return instant.astimezone(UTC)


def _value(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
    raise _Refused("value must be a finite number", "value harus berupa bilangan terhingga")


def _details(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Refused("details must be a JSON object", "details harus berupa objek JSON")
    if nesting_exceeds(value, MAX_DETAILS_DEPTH):
        raise _Refused(
            f"details nest deeper than {MAX_DETAILS_DEPTH} levels",
            f"details bersarang lebih dari {MAX_DETAILS_DEPTH} tingkat",
        )
    if not _all_storable(value):
        raise _Refused(
            "details hold a value that cannot be stored", "details berisi nilai yang tidak dapat disimpan"
        )
    if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > MAX_DETAILS_BYTES:
        raise _Refused(
            f"details must be at most {MAX_DETAILS_BYTES} bytes of JSON",
            f"details paling banyak {MAX_DETAILS_BYTES} bita JSON",
        )
    return value


def _all_storable(value: object) -> bool:
    """Return whether every key and leaf can go into JSONB (finite numbers, storable text)."""
    stack: list[object] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and not _storable(node):
            return False
        elif isinstance(node, float) and not math.isfinite(node):
            return False
        elif not isinstance(node, str | int | float | bool) and node is not None:
            return False
    return True
