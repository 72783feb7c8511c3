"""A small declarative mapping from a JSON document's items to status reports (dotted paths).

The mapping picks and converts (status maps, value thresholds, epoch and naive times); each mapped item
is then read by layers.live.report_input, the one reader of reports, with its limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from geo.digits import whole_number
from ingest.poller_config import JsonMapping
from layers.live.report_input import BadReport, read_report
from layers.live.status import MAX_BATCH, StatusReport

MISSING: Final = object()
EPOCH_MS_FROM: Final = 1e11  # numbers above this are epoch milliseconds, below epoch seconds


def pick(document: object, path: str | None) -> object:
    """Return the value at a dotted path (`data.items.0.id`; "" or "$" is the document), or MISSING."""
    if path is None:
        return MISSING
    node = document
    trimmed = path.removeprefix("$").removeprefix(".")
    for part in trimmed.split(".") if trimmed else ():
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and (index := whole_number(part, 9)) is not None and index < len(node):
            node = node[index]
        else:
            return MISSING
    return node


def _number(raw: object) -> float | None:
    """Return a number or numeric text as a float (None when absent or unreadable; NaN stays NaN)."""
    if isinstance(raw, bool) or raw is MISSING or raw is None:
        return None
    try:
        return float(raw) if isinstance(raw, int | float | str) else None
    except OverflowError:
        return math.inf
    except ValueError:
        return None


def _observed(raw: object, fetched_at: datetime) -> datetime | None:
    """Return an ISO 8601 or epoch timestamp as an aware datetime (naive means UTC); None if unreadable."""
    if raw is MISSING or raw is None:
        return fetched_at
    try:
        if isinstance(raw, str):
            parsed = datetime.fromisoformat(raw)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        number = _number(raw)
        if number is not None and math.isfinite(number):
            return datetime.fromtimestamp(number / 1000 if number > EPOCH_MS_FROM else number, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _status(raw: object, value: float | None, mapping: JsonMapping, statuses: Sequence[str]) -> str | None:
    if raw is not MISSING and raw is not None:
        text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        mapped = mapping.status_map.get(text, text)
        return mapped if mapped in statuses else None
    if value is None or not math.isfinite(value) or not mapping.value_thresholds:
        return None
    reached = [status for low, status in sorted(mapping.value_thresholds) if value >= low]
    return reached[-1] if reached else None


def _external_id(raw: object) -> str | None:
    if isinstance(raw, str) and raw:
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def map_document(
    document: object,
    mapping: JsonMapping,
    *,
    layer_id: str,
    statuses: Sequence[str],
    source: str,
    fetched_at: datetime,
) -> tuple[list[StatusReport], list[str]]:
    """Return the reports the document's items map to, and a note for each item that could not be mapped."""
    items = pick(document, mapping.items)
    if not isinstance(items, list):
        return [], [f"no list at {mapping.items or '$'!r}"]
    reports: list[StatusReport] = []
    problems: list[str] = []
    for index, item in enumerate(items[:MAX_BATCH]):
        external_id = _external_id(pick(item, mapping.external_id))
        value = _number(pick(item, mapping.value))
        status = _status(pick(item, mapping.status), value, mapping, statuses)
        observed = _observed(pick(item, mapping.observed_at), fetched_at)
        if external_id is None or status is None or observed is None:
            problems.append(f"item {index}: missing or unknown external id, status or time")
            continue
        fields = {"status": status, "value": value, "observed_at": observed}
        read = read_report(fields, source=source, target=(layer_id, external_id), now=fetched_at)
        if isinstance(read, BadReport):
            problems.append(f"item {index}: {read.en}")
        else:
            reports.append(read)
    if len(items) > MAX_BATCH:
        problems.append(f"{len(items) - MAX_BATCH} items past the first {MAX_BATCH} were left out")
    return reports, problems
