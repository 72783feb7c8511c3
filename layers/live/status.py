"""The one write path for live status: check against the stored asset, append history, upsert the latest,
and record the status event (new states and touched tiles) that goes out on commit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import BigInteger, DateTime, Float, Text

from layers.access.policy import Action, Principal, allows, in_asset_scope
from layers.catalog import LAYERS
from layers.live.asset_events import asset_state, record_asset_event
from layers.tables import assets

MAX_BATCH = 10_000

Outcome = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One status report about one asset, by asset id or by (layer, external id).

    Reports from outside come from layers.live.report_input.read_report, which holds their bounds.
    """

    status: str
    observed_at: datetime
    source: str
    asset_id: int | None = None
    layer_id: str | None = None
    external_id: str | None = None
    value: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What happened to one report of a batch."""

    index: int
    outcome: Outcome
    asset_id: int | None = None
    reason: str | None = None  # in English; `reason_id` in Indonesian
    latest: bool = False  # whether it became the asset's latest status
    reason_id: str | None = None


Reason = tuple[str, str]  # (English, Indonesian)
_UNKNOWN: Reason = (
    "unknown asset or not allowed to report for it",
    "aset tidak dikenal atau tidak boleh dilaporkan",
)


@dataclass(frozen=True, slots=True)
class _Target:
    asset_id: int
    layer_id: str
    external_id: str


def _resolve(conn: Connection, reports: Sequence[StatusReport]) -> list[_Target | None]:
    """Find each report's asset (None when it does not exist)."""
    ids = {r.asset_id for r in reports if r.asset_id is not None}
    keys = {
        (r.layer_id, r.external_id) for r in reports if r.asset_id is None and r.external_id and r.layer_id
    }
    by_id: dict[int, _Target] = {}
    by_key: dict[tuple[str, str], _Target] = {}
    if ids:
        rows = conn.execute(
            select(assets.c.id, assets.c.layer_id, assets.c.external_id).where(assets.c.id.in_(sorted(ids)))
        )
        by_id = {row.id: _Target(row.id, row.layer_id, row.external_id) for row in rows}
    if keys:
        rows = conn.execute(
            select(assets.c.id, assets.c.layer_id, assets.c.external_id).where(
                tuple_(assets.c.layer_id, assets.c.external_id).in_(sorted(keys))
            )
        )
        by_key = {
            (row.layer_id, row.external_id): _Target(row.id, row.layer_id, row.external_id) for row in rows
        }
    out: list[_Target | None] = []
    for r in reports:
        if r.asset_id is not None:
            target = by_id.get(r.asset_id)
            out.append(target if target and (r.layer_id in (None, target.layer_id)) else None)
        else:
            out.append(by_key.get((r.layer_id or "", r.external_id or "")))
    return out


def _problem(report: StatusReport, target: _Target, may_report: bool, principal: Principal) -> Reason | None:
    """Return why a report cannot be stored for its asset, or None (its own bounds were read before)."""
    layer = LAYERS[target.layer_id]
    if layer.status is None:
        return f"layer {layer.id} carries no live status", f"lapisan {layer.id} tidak memuat status langsung"
    if not may_report:
        return _UNKNOWN
    if not in_asset_scope(principal, layer.id, target.external_id):
        shown = target.external_id[:80]
        return (
            f"this key reports only for its own assets; {layer.id} {shown!r} is not one of them",
            f"kunci ini hanya melapor untuk asetnya sendiri; {layer.id} {shown!r} bukan salah satunya",
        )
    if report.status not in layer.status.values:
        listed = ", ".join(layer.status.values)
        return (
            f"status {report.status!r} is not one of {listed}",
            f"status {report.status!r} bukan salah satu dari {listed}",
        )
    low, high = layer.status.value_range or (-math.inf, math.inf)
    if report.value is not None and not low <= report.value <= high:
        unit = layer.status.unit or ""
        return (
            f"value {report.value} is outside {low}..{high} {unit}".rstrip(),
            f"nilai {report.value} di luar {low}..{high} {unit}".rstrip(),
        )
    return None


def write_reports(
    conn: Connection, principal: Principal, reports: Sequence[StatusReport]
) -> list[ReportResult]:
    """Store a batch in the caller's transaction; bad reports are rejected without blocking good ones.

    Duplicates (same asset, source, observed_at) are ignored, so retries are safe; an older report never
    replaces a newer latest status. The status event and its NOTIFY go out when the caller commits.
    """
    if len(reports) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} reports per batch")
    targets = _resolve(conn, reports)
    # The policy is asked once per layer, not once per report: a batch is mostly one or two layers.
    may_report = {
        layer_id: allows(principal, Action.REPORT, LAYERS[layer_id])
        for layer_id in {t.layer_id for t in targets if t is not None}
    }
    results: dict[int, ReportResult] = {}
    good: list[tuple[int, StatusReport, _Target]] = []
    for index, (report, target) in enumerate(zip(reports, targets, strict=True)):
        reason = None if target is None else _problem(report, target, may_report[target.layer_id], principal)
        if target is None or reason is not None:
            en, id_ = reason or _UNKNOWN
            results[index] = ReportResult(index, "rejected", None, en, reason_id=id_)
        else:
            good.append((index, report, target))
    if good:
        results.update(_store(conn, good))
    return [results[i] for i in range(len(reports))]


_ARRAYS = (
    bindparam("asset_ids", type_=ARRAY(BigInteger)),
    bindparam("statuses", type_=ARRAY(Text)),
    bindparam("vals", type_=ARRAY(Float)),
    bindparam("units", type_=ARRAY(Text)),
    bindparam("observed", type_=ARRAY(DateTime(timezone=True))),
    bindparam("sources", type_=ARRAY(Text)),
    bindparam("details", type_=ARRAY(JSONB)),
)

_APPEND = text(
    """
    INSERT INTO observations (asset_id, status, value, unit, observed_at, source, details)
    SELECT * FROM unnest(:asset_ids, :statuses, :vals, :units, :observed, :sources, :details)
    ON CONFLICT (asset_id, source, observed_at) DO NOTHING
    RETURNING asset_id, source, observed_at
    """
).bindparams(*_ARRAYS)

# Newest report per asset wins, and only if it is newer than what is stored (out-of-order safe).
_UPSERT_LATEST = text(
    """
    INSERT INTO asset_status AS s (asset_id, status, value, unit, observed_at, received_at, source, details)
    SELECT DISTINCT ON (asset_id) asset_id, status, value, unit, observed_at, now(), source, details
    FROM unnest(:asset_ids, :statuses, :vals, :units, :observed, :sources, :details)
         AS r(asset_id, status, value, unit, observed_at, source, details)
    ORDER BY asset_id, observed_at DESC
    ON CONFLICT (asset_id) DO UPDATE SET
        status = EXCLUDED.status, value = EXCLUDED.value, unit = EXCLUDED.unit,
        observed_at = EXCLUDED.observed_at, received_at = EXCLUDED.received_at,
        source = EXCLUDED.source, details = EXCLUDED.details
    WHERE s.observed_at < EXCLUDED.observed_at
    RETURNING asset_id, status, value, unit, observed_at, now() AS at
    """
).bindparams(*_ARRAYS)


def _columns(rows: Sequence[tuple[int, StatusReport, _Target]]) -> dict[str, list[Any]]:
    return {
        "asset_ids": [t.asset_id for _, _, t in rows],
        "statuses": [r.status for _, r, _ in rows],
        "vals": [r.value for _, r, _ in rows],
        "units": [LAYERS[t.layer_id].status.unit if LAYERS[t.layer_id].status else None for _, _, t in rows],  # type: ignore[union-attr]
        "observed": [r.observed_at for _, r, _ in rows],
        "sources": [r.source for _, r, _ in rows],
        "details": [dict(r.details) for _, r, _ in rows],
    }


def _store(conn: Connection, good: Sequence[tuple[int, StatusReport, _Target]]) -> dict[int, ReportResult]:
    observed = [r.observed_at for _, r, _ in good]
    conn.execute(
        text("SELECT kendali_ensure_observation_partitions(:lo, :hi)"),
        {"lo": min(observed), "hi": max(observed)},
    )
    columns = _columns(good)
    appended = {(row.asset_id, row.source, row.observed_at) for row in conn.execute(_APPEND, columns)}
    fresh = [g for g in good if (g[2].asset_id, g[1].source, g[1].observed_at) in appended]
    latest: set[tuple[int, datetime]] = set()
    if fresh:
        rows = conn.execute(_UPSERT_LATEST, _columns(fresh)).all()
        latest = {(row.asset_id, row.observed_at) for row in rows}
        _notify(conn, fresh, rows)
    out: dict[int, ReportResult] = {}
    claimed: set[tuple[int, str, datetime]] = set()
    for index, report, target in good:
        key = (target.asset_id, report.source, report.observed_at)
        if key not in appended or key in claimed:  # stored before, or repeated within this batch
            out[index] = ReportResult(index, "duplicate", target.asset_id)
        else:
            claimed.add(key)
            became_latest = (target.asset_id, report.observed_at) in latest
            out[index] = ReportResult(index, "accepted", target.asset_id, latest=became_latest)
    return out


def _notify(
    conn: Connection, fresh: Sequence[tuple[int, StatusReport, _Target]], rows: Sequence[Any]
) -> None:
    """Record one status event per layer with the new state of each asset whose latest status changed."""
    layer_of = {target.asset_id: target.layer_id for _, _, target in fresh}
    changed: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        layer = LAYERS[layer_of[row.asset_id]]
        stale_after = layer.status.stale_after if layer.status else None
        stale = stale_after is not None and row.observed_at < row.at - stale_after
        state = asset_state(row.asset_id, row.status, row.value, row.unit, row.observed_at, stale)
        changed.setdefault(layer.id, {})[row.asset_id] = state
    for layer_id, states in changed.items():
        record_asset_event(conn, "status", LAYERS[layer_id], states, states)
