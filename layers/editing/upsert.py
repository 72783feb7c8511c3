"""Bulk upsert by external id (file imports): insert new features, rewrite changed ones, skip the same.

Every write goes through layers.editing.edits (validation, version bump, audit log); this module only finds
what is stored, decides insert / update / unchanged per row, and collects the rows that were refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, func, select

from layers.access.policy import Principal
from layers.catalog.spec import LayerSpec, Storage
from layers.editing import edits as editing
from layers.editing.validation import validate_properties
from layers.errors import KendaliError
from layers.live.events import record_event
from layers.tables import areas, assets

LOOKUP_CHUNK = 5000
EVENT_IDS_MAX = 1000

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One row of an import, already read and turned into lon/lat geometry."""

    row: int  # 1-based position in the file
    external_id: str | None
    name: object
    properties: dict[str, Any]
    geom: BaseGeometry


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was not imported, and why (English and Indonesian)."""

    row: int
    external_id: str | None
    reason_en: str
    reason_id: str

    def reason(self, lang: str) -> str:
        """Return the reason in `lang` (Indonesian unless "en")."""
        return self.reason_en if lang == "en" else self.reason_id


@dataclass(slots=True)
class UpsertOutcome:
    """What an upsert did (or, rolled back, would have done)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    version: int
    name: str
    properties: dict[str, Any]
    wkb: bytes


def _table(layer: LayerSpec) -> Table:
    return areas if layer.storage is Storage.AREAS else assets


def stored_by_external_id(
    conn: Connection, layer: LayerSpec, external_ids: Iterable[str]
) -> dict[str, _Stored]:
    """Return the live features of a layer that carry these external ids, with what an upsert compares."""
    table = _table(layer)
    wanted = sorted(set(external_ids))
    found: dict[str, _Stored] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        where = [table.c.layer_id == layer.id, table.c.external_id.in_(wanted[start : start + LOOKUP_CHUNK])]
        if table is areas:
            where.append(table.c.deleted_at.is_(None))
        stmt = select(
            table.c.id,
            table.c.version,
            table.c.name,
            table.c.properties,
            table.c.external_id,
            func.ST_AsBinary(table.c.geom).label("wkb"),
        ).where(*where)
        for row in conn.execute(stmt):
            found[row.external_id] = _Stored(row.id, row.version, row.name, row.properties, bytes(row.wkb))
    return found


def _feature(candidate: Candidate) -> dict[str, Any]:
    properties = {**candidate.properties, "name": candidate.name, "external_id": candidate.external_id}
    return {"type": "Feature", "geometry": shapely.geometry.mapping(candidate.geom), "properties": properties}


def _unchanged(layer: LayerSpec, stored: _Stored, candidate: Candidate) -> bool:
    """Return whether a row would store exactly what is there already (no new version needed)."""
    name = candidate.name.strip() if isinstance(candidate.name, str) else None
    if name != stored.name:
        return False
    try:
        properties = validate_properties(layer, candidate.properties)
    except KendaliError:
        return False  # the write below reports why
    if properties != stored.properties:
        return False
    return bool(shapely.equals_exact(shapely.from_wkb(stored.wkb), candidate.geom, tolerance=0))


def _missing_id(candidate: Candidate) -> Rejection:
    return Rejection(
        candidate.row,
        None,
        "external_id is missing; an import finds features by their external id",
        "external_id kosong; impor mencocokkan fitur berdasarkan external_id",
    )


def _repeated(candidate: Candidate, first_row: int) -> Rejection:
    return Rejection(
        candidate.row,
        candidate.external_id,
        f"external_id {candidate.external_id!r} already appears in row {first_row}",
        f"external_id {candidate.external_id!r} sudah muncul di baris {first_row}",
    )


def _write_one(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    candidate: Candidate,
    stored: _Stored | None,
    outcome: UpsertOutcome,
) -> None:
    """Insert, rewrite or skip one row; a refused row is recorded and its savepoint rolled back."""
    try:
        if stored is None:
            written = editing.create_feature(conn, layer, principal, _feature(candidate), announce=False)
            outcome.inserted += 1
        elif _unchanged(layer, stored, candidate):
            outcome.unchanged += 1
            return
        else:
            feature = _feature(candidate)
            written = editing.replace_feature(
                conn, layer, principal, stored.id, feature, stored.version, announce=False
            )
            outcome.updated += 1
    except KendaliError as exc:
        reason = Rejection(candidate.row, candidate.external_id, exc.message("en"), exc.message("id"))
        outcome.rejected.append(reason)
        return
    outcome.ids.append(written.id)


def upsert_features(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    candidates: Sequence[Candidate],
    progress: Progress | None = None,
) -> UpsertOutcome:
    """Write each candidate in the caller's transaction: insert by new external id, else update.

    Each row runs in its own savepoint, so a refused row leaves nothing behind and the rest go on; the
    caller decides whether to keep the result. One `batch` event names what changed (the dashboard
    reloads the layer once), instead of one `feature` event per row.
    """
    editing.editable_layer(principal, layer.id)
    stored = stored_by_external_id(conn, layer, (c.external_id for c in candidates if c.external_id))
    outcome = UpsertOutcome()
    first_row: dict[str, int] = {}
    for done, candidate in enumerate(candidates, start=1):
        key = candidate.external_id
        if key is None:
            outcome.rejected.append(_missing_id(candidate))
        elif key in first_row:
            outcome.rejected.append(_repeated(candidate, first_row[key]))
        else:
            first_row[key] = candidate.row
            _write_one(conn, layer, principal, candidate, stored.get(key), outcome)
        if progress is not None:
            progress(done, len(candidates))
    if outcome.ids:
        ids = sorted(outcome.ids)
        record_event(conn, "batch", layer.id, {"count": len(ids), "ids": ids[:EVENT_IDS_MAX]})
    return outcome
