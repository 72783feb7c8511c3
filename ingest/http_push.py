"""HTTP push of live status: parse and bound a JSON batch, read each report, store them through the write
path, tally verdicts.

A malformed report is rejected on its own with a reason (from layers.live.report_input, the one reader
of reports); only a body that is not a batch at all (not JSON, not an object or array, nested too deep,
more than MAX_REPORTS reports) is refused as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from layers.access.policy import Action, Principal, allows
from layers.alerts.evaluate import write_and_evaluate
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec
from layers.errors import Forbidden, InvalidInput, Unauthorized
from layers.json_input import nesting_exceeds, too_deep
from layers.live.report_input import TEXT_LIMITS, BadReport, read_report
from layers.live.status import MAX_BATCH, ReportResult, StatusReport

MAX_REPORTS = MAX_BATCH
MAX_DEPTH = 16  # of the whole body: {"reports": [{"details": {...}}]} leaves 12 levels for details


class BatchTooLarge(InvalidInput):
    """A batch holds more reports than one request may carry."""

    code = "batch_too_large"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"a batch holds at most {MAX_REPORTS} reports, this one has {count}",
            f"satu batch berisi paling banyak {MAX_REPORTS} laporan, batch ini berisi {count}",
            limit=MAX_REPORTS,
        )


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
    source = principal.name[: TEXT_LIMITS["source"]]
    verdicts: dict[int, Verdict] = {}
    good: list[tuple[int, StatusReport]] = []
    for index, item in enumerate(items):
        read = read_report(item, source=source)
        if isinstance(read, BadReport):
            verdicts[index] = Verdict(index, "rejected", reason_en=read.en, reason_id=read.id)
        else:
            good.append((index, read))
    results: Sequence[ReportResult] = (
        write_and_evaluate(conn, principal, [r for _, r in good]) if good else []
    )
    for (index, _), result in zip(good, results, strict=True):
        verdicts[index] = Verdict(
            index, result.outcome, result.asset_id, reason_en=result.reason, reason_id=result.reason_id
        )
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
