"""HTTP push of live status: parse and bound a JSON batch, store it through the write path, tally verdicts.

A malformed report is rejected on its own with a reason; only a body that is not a batch at all (not JSON,
not an object or array, nested too deep, more than MAX_REPORTS reports) is refused as a whole.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from layers.access.policy import Action, Principal, allows
from layers.alerts.evaluate import write_and_evaluate
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec
from layers.errors import Forbidden, InvalidInput, Unauthorized
from layers.json_input import nesting_exceeds, too_deep
from layers.live.status import MAX_BATCH, ReportResult, StatusReport

MAX_REPORTS = MAX_BATCH
MAX_DEPTH = 16  # of the whole body: {"reports": [{"details": {...}}]} leaves 12 levels for details
MAX_DETAILS_DEPTH = 4
MAX_DETAILS_BYTES = 4_096
MAX_ASSET_ID = 2**63 - 1
FIELDS = frozenset(
    {"asset_id", "layer", "external_id", "status", "value", "observed_at", "details", "source"}
)
TEXT_LIMITS = {"layer": 64, "external_id": 200, "status": 64, "source": 100, "observed_at": 64}


class BatchTooLarge(InvalidInput):
    """A batch holds more reports than one request may carry."""

    code = "batch_too_large"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"a batch holds at most {MAX_REPORTS} reports, this one has {count}",
            f"satu batch berisi paling banyak {MAX_REPORTS} laporan, batch ini berisi {count}",
            limit=MAX_REPORTS,
        )


class BadReport(Exception):
    """One report is malformed; carries the reason in English and Indonesian."""

    def __init__(self, en: str, id_: str) -> None:
        super().__init__(en)
        self.en = en
        self.id = id_


@dataclass(frozen=True, slots=True)
class Verdict:
    """What happened to the report at `index` of the body."""

    index: int
    outcome: str  # accepted | duplicate | rejected
    asset_id: int | None = None
    reason_en: str | None = None
    reason_id: str | None = None

    def as_json(self, lang: str) -> dict[str, Any]:
        """Return the verdict as the response shows it, the reason in `lang`."""
        reason = self.reason_en if lang == "en" else (self.reason_id or self.reason_en)
        return {"index": self.index, "outcome": self.outcome, "asset_id": self.asset_id, "reason": reason}


@dataclass(frozen=True, slots=True)
class PushSummary:
    """The verdicts of one pushed batch, in body order."""

    verdicts: list[Verdict]

    def count(self, outcome: str) -> int:
        """Return how many reports had `outcome`."""
        return sum(1 for v in self.verdicts if v.outcome == outcome)

    def as_json(self, lang: str) -> dict[str, Any]:
        """Return the response body: counts and one result per report."""
        return {
            "accepted": self.count("accepted"),
            "duplicates": self.count("duplicate"),
            "rejected": self.count("rejected"),
            "results": [v.as_json(lang) for v in self.verdicts],
        }


def reportable_layers(principal: Principal) -> list[LayerSpec]:
    """Return the live layers `principal` may report status for."""
    return [s for s in LAYERS.values() if s.has_status and allows(principal, Action.REPORT, s)]


def check_reporter(principal: Principal) -> Principal:
    """Return the caller if it may report for some layer; 401 for nobody, 403 for no layer at all."""
    if principal.is_anonymous:
        raise Unauthorized("an API key is needed to report status", "kunci API diperlukan untuk melapor")
    if not reportable_layers(principal):
        raise Forbidden(
            "this key may not report status for any layer",
            "kunci ini tidak boleh melaporkan status untuk lapisan mana pun",
        )
    return principal


def push_status(conn: Connection, principal: Principal, raw: bytes) -> PushSummary:
    """Parse a pushed body and store its good reports in the caller's transaction (commit is theirs)."""
    items = parse_body(raw)
    verdicts: dict[int, Verdict] = {}
    good: list[tuple[int, StatusReport]] = []
    for index, item in enumerate(items):
        try:
            good.append((index, to_report(item, principal.name[: TEXT_LIMITS["source"]])))
        except BadReport as bad:
            verdicts[index] = Verdict(index, "rejected", reason_en=bad.en, reason_id=bad.id)
    results: Sequence[ReportResult] = (
        write_and_evaluate(conn, principal, [r for _, r in good]) if good else []
    )
    for (index, _), result in zip(good, results, strict=True):
        verdicts[index] = Verdict(index, result.outcome, result.asset_id, reason_en=result.reason)
    return PushSummary([verdicts[i] for i in range(len(items))])


def parse_body(raw: bytes) -> list[Any]:
    """Return the reports of a body: a JSON array, or an object with a `reports` array."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise too_deep(MAX_DEPTH) from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON", "isi bukan JSON yang sah") from None
    if nesting_exceeds(value, MAX_DEPTH):
        raise too_deep(MAX_DEPTH)
    items = value.get("reports") if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise InvalidInput(
            'send a JSON array of reports, or an object {"reports": [...]}',
            'kirim larik JSON berisi laporan, atau objek {"reports": [...]}',
        )
    if len(items) > MAX_REPORTS:
        raise BatchTooLarge(len(items))
    return items


def to_report(item: object, default_source: str) -> StatusReport:
    """Return one well-formed report, or raise BadReport with the reason."""
    if not isinstance(item, dict):
        raise BadReport("a report must be a JSON object", "laporan harus berupa objek JSON")
    unknown = item.keys() - FIELDS
    if unknown:
        listed = ", ".join(sorted(map(str, unknown)))[:200]
        raise BadReport(f"unknown fields: {listed}", f"bidang tidak dikenal: {listed}")
    asset_id, layer_id, external_id = _target(item)
    return StatusReport(
        status=_text(item, "status", required=True) or "",
        observed_at=_instant(item.get("observed_at")),
        source=_text(item, "source") or default_source,
        asset_id=asset_id,
        layer_id=layer_id,
        external_id=external_id,
        value=_value(item.get("value")),
        details=_details(item.get("details")),
    )


def _target(item: Mapping[str, Any]) -> tuple[int | None, str | None, str | None]:
    """Return (asset id, layer, external id): an asset id, or a layer with an external id."""
    raw_id = item.get("asset_id")
    layer_id = _text(item, "layer")
    external_id = _text(item, "external_id")
    if raw_id is not None:
        if isinstance(raw_id, bool) or not isinstance(raw_id, int) or not 1 <= raw_id <= MAX_ASSET_ID:
            raise BadReport("asset_id must be a positive integer", "asset_id harus bilangan bulat positif")
        return raw_id, layer_id, external_id
    if layer_id is None or external_id is None:
        raise BadReport(
            "name the asset by asset_id, or by layer and external_id",
            "sebutkan aset dengan asset_id, atau dengan layer dan external_id",
        )
    return None, layer_id, external_id


def _text(item: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = item.get(name)
    if value is None:
        if required:
            raise BadReport(f"{name} is required", f"{name} wajib diisi")
        return None
    limit = TEXT_LIMITS[name]
    if not isinstance(value, str) or not 1 <= len(value) <= limit or not _storable(value):
        raise BadReport(
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


def _instant(value: object) -> datetime:
    if isinstance(value, str) and 10 <= len(value) <= TEXT_LIMITS["observed_at"] and "T" in value.upper():
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            instant = None
        if instant is not None and instant.tzinfo is not None:
            return instant.astimezone(UTC)
    raise BadReport(
        "observed_at must be an RFC 3339 date-time with a time zone, e.g. 2025-01-31T08:00:00+09:00",
        "observed_at harus tanggal-waktu RFC 3339 dengan zona waktu, mis. 2025-01-31T08:00:00+09:00",
    )


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
    raise BadReport("value must be a finite number", "value harus berupa bilangan terhingga")


def _details(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadReport("details must be a JSON object", "details harus berupa objek JSON")
    if nesting_exceeds(value, MAX_DETAILS_DEPTH):
        raise BadReport(
            f"details nest deeper than {MAX_DETAILS_DEPTH} levels",
            f"details bersarang lebih dari {MAX_DETAILS_DEPTH} tingkat",
        )
    if not _all_storable(value):
        raise BadReport(
            "details hold a value that cannot be stored", "details berisi nilai yang tidak dapat disimpan"
        )
    if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > MAX_DETAILS_BYTES:
        raise BadReport(
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
    return True
