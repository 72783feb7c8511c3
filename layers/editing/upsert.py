"""Bulk upsert by external id (file imports): insert new features, rewrite changed ones, skip the same.

Rows go in chunks: each row is checked in Python with the same rules a single write applies (name, external
id, the layer's properties model), the chunk's stored features are read in one query, the rows to write
are COPied into a temporary table, and one INSERT … ON CONFLICT and one UPDATE per chunk write them, with
their audit rows, set-based. Should the database still refuse a chunk (a rule only it knows), that chunk is
written again row by row through layers.editing.edits, so each refused row is named with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import psycopg
import shapely
from psycopg import sql
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from layers.access.policy import Principal
from layers.catalog.spec import LayerSpec, Storage
from layers.editing import edits as editing
from layers.errors import KendaliError
from layers.live.events import record_event
from layers.tables import areas, assets, audit_log

CHUNK: Final = 5000  # rows checked, looked up and written together; progress and cancellation between
EVENT_IDS_MAX: Final = 1000

Progress = Callable[[int, int], None]  # (rows done, rows in all)
Cancelled = Callable[[], bool]  # asked between chunks; True stops the import


class ImportCancelled(Exception):  # noqa: N818 - it names what happened, as Python's CancelledError does
    """The caller stopped the import (the client went away, or its job was cancelled)."""


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


@dataclass(frozen=True, slots=True)
class _Row:
    """A checked row, what it will store, and the stored feature it replaces (if any)."""

    candidate: Candidate
    name: str
    external_id: str
    properties: dict[str, Any]
    stored: _Stored | None = None


# The rows of one chunk on their way in; dropped with the transaction (or savepoint) that made it.
_stage = Table(
    "kendali_import_stage",
    MetaData(),
    Column("file_row", Integer, nullable=False),
    Column("id", BigInteger),  # the stored feature to rewrite; NULL: a new one
    Column("version", Integer),
    Column("external_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("properties", JSONB, nullable=False),
    Column("geom", LargeBinary, nullable=False),  # EWKB, every bit of the checked coordinates
    Column("footprint", LargeBinary),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_STAGE_COLUMNS: Final = tuple(c.name for c in _stage.columns)


def _table(layer: LayerSpec) -> Table:
    return areas if layer.storage is Storage.AREAS else assets


# --- reading what is stored ---------------------------------------------------------------------------


def stored_by_external_id(
    conn: Connection, layer: LayerSpec, external_ids: Iterable[str]
) -> tuple[dict[str, _Stored], set[str]]:
    """Return the live features of a layer that carry these external ids, and the ids held more than once."""
    table = _table(layer)
    wanted = sorted(set(external_ids))
    found: dict[str, _Stored] = {}
    repeated: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        keys = bindparam("keys", wanted[start : start + CHUNK], type_=ARRAY(Text))
        where = [table.c.layer_id == layer.id, table.c.external_id == any_(keys)]
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
            if row.external_id in found:
                repeated.add(row.external_id)
            found[row.external_id] = _Stored(row.id, row.version, row.name, row.properties, bytes(row.wkb))
    return found, repeated


# --- checking rows ------------------------------------------------------------------------------------


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


def _taken(layer: LayerSpec, candidate: Candidate) -> Rejection:
    return Rejection(
        candidate.row,
        candidate.external_id,
        f"{layer.id!r} already has a feature with external_id {candidate.external_id!r}",
        f"{layer.id!r} sudah memiliki fitur dengan external_id {candidate.external_id!r}",
    )


def _changed_meanwhile(candidate: Candidate, version: int) -> Rejection:
    return Rejection(
        candidate.row,
        candidate.external_id,
        f"the feature changed after version {version} was read; import the file again",
        f"fitur berubah setelah versi {version} dibaca; impor ulang berkasnya",
    )


def _refused(candidate: Candidate, exc: KendaliError) -> Rejection:
    return Rejection(candidate.row, candidate.external_id, exc.message("en"), exc.message("id"))


def _checked(
    layer: LayerSpec, chunk: Sequence[Candidate], first_row: dict[str, int], outcome: UpsertOutcome
) -> list[_Row]:
    """Return the rows of a chunk that pass the checks a single write makes; record the others."""
    rows: list[_Row] = []
    for candidate in chunk:
        key = candidate.external_id
        if key is None:
            outcome.rejected.append(_missing_id(candidate))
            continue
        if key in first_row:
            outcome.rejected.append(_repeated(candidate, first_row[key]))
            continue
        first_row[key] = candidate.row
        properties = {**candidate.properties, "name": candidate.name, "external_id": key}
        try:
            draft = editing._draft(layer, properties, candidate.geom)
        except KendaliError as exc:
            outcome.rejected.append(_refused(candidate, exc))
            continue
        rows.append(_Row(candidate, draft.name, key, draft.properties))
    return rows


def _plan(
    layer: LayerSpec, conn: Connection, rows: list[_Row], outcome: UpsertOutcome
) -> tuple[list[_Row], list[_Row]]:
    """Return the rows to insert and the rows to rewrite; count the unchanged, refuse ambiguous ids."""
    stored, repeated = stored_by_external_id(conn, layer, (r.external_id for r in rows))
    inserts: list[_Row] = []
    known: list[tuple[_Row, _Stored]] = []
    for row in rows:
        if row.external_id in repeated:
            outcome.rejected.append(_taken(layer, row.candidate))
        elif row.external_id in stored:
            known.append((row, stored[row.external_id]))
        else:
            inserts.append(row)
    if not known:
        return inserts, []
    old = shapely.from_wkb([s.wkb for _, s in known])
    new = np.array([r.candidate.geom for r, _ in known], dtype=object)
    same_geom = shapely.equals_exact(old, new, tolerance=0)
    updates: list[_Row] = []
    for (row, was), same in zip(known, same_geom, strict=True):
        if same and row.name == was.name and row.properties == was.properties:
            outcome.unchanged += 1
        else:
            updates.append(replace(row, stored=was))
    return inserts, updates


# --- writing a chunk ----------------------------------------------------------------------------------


def _ewkb(geoms: Sequence[BaseGeometry]) -> list[bytes]:
    with_srid = shapely.set_srid(np.array(geoms, dtype=object), 4326)
    return [bytes(b) for b in shapely.to_wkb(with_srid, include_srid=True)]


def _footprints(layer: LayerSpec, rows: Sequence[_Row]) -> list[bytes | None]:
    if layer.footprint is None:
        return [None] * len(rows)
    shapes = [layer.footprint(r.candidate.geom, layer.properties.model_validate(r.properties)) for r in rows]
    return list(_ewkb(shapes))


def _fill_stage(conn: Connection, layer: LayerSpec, rows: Sequence[_Row]) -> None:
    """Empty the stage and COPY the rows of one chunk into it."""
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):  # the engine is always psycopg 3
        raise TypeError("bulk import needs a psycopg connection")
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(_stage.name), sql.SQL(", ").join(map(sql.Identifier, _STAGE_COLUMNS))
    )
    geoms = _ewkb([r.candidate.geom for r in rows])
    footprints = _footprints(layer, rows)
    with raw.cursor() as cur:
        cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(_stage.name)))
        with cur.copy(stmt) as copy:
            for row, geom, footprint in zip(rows, geoms, footprints, strict=True):
                stored = row.stored
                copy.write_row(
                    (
                        row.candidate.row,
                        None if stored is None else stored.id,
                        None if stored is None else stored.version,
                        row.external_id,
                        row.name,
                        json.dumps(row.properties),
                        geom,
                        footprint,
                    )
                )


def _snapshot(table: Table) -> ColumnElement[Any]:
    """Return what the audit log keeps of a feature, as edits.py writes it."""
    return func.jsonb_build_object(
        "name",
        table.c.name,
        "external_id",
        table.c.external_id,
        "properties",
        table.c.properties,
        "geometry",
        cast(func.ST_AsGeoJSON(table.c.geom), JSONB),
        "version",
        table.c.version,
    )


def _audited(principal: Principal, layer: LayerSpec, action: str, written: Any, before: Any = None) -> Any:
    """Return the INSERT into audit_log, one row per written feature, as a CTE."""
    columns = [
        literal(principal.name).label("actor"),
        literal(action).label("action"),
        literal(_table(layer).name).label("target"),
        cast(written.c.id, Text).label("target_id"),
        literal(layer.id).label("layer_id"),
        written.c.after,
    ]
    names = ["actor", "action", "target", "target_id", "layer_id", "after"]
    source = select(*columns)
    if before is not None:
        source = source.add_columns(before.c.before).join_from(written, before, before.c.id == written.c.id)
        names.append("before")
    return insert(audit_log).from_select(names, source).cte(f"audit_{action}")


def _geom(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.ST_GeomFromEWKB(column)


def _insert_statement(layer: LayerSpec, principal: Principal) -> Select[Any]:
    """Return the statement that inserts the staged new rows with their audit rows; it yields id, row."""
    table, s = _table(layer), _stage
    columns: dict[str, ColumnElement[Any]] = {
        "layer_id": literal(layer.id),
        "agency": literal(layer.owner),
        "external_id": s.c.external_id,
        "name": s.c.name,
        "properties": s.c.properties,
        "geom": _geom(s.c.geom),
    }
    if table is areas:
        columns |= {"created_by": literal(principal.name), "updated_by": literal(principal.name)}
    elif layer.footprint is not None:
        columns["footprint"] = _geom(s.c.footprint)
    source = select(*(c.label(n) for n, c in columns.items())).where(s.c.id.is_(None)).order_by(s.c.file_row)
    stmt = pg_insert(table).from_select(list(columns), source)
    if table is assets:
        stmt = stmt.on_conflict_do_nothing(index_elements=[assets.c.layer_id, assets.c.external_id])
    written = stmt.returning(table.c.id, table.c.external_id, _snapshot(table).label("after")).cte("written")
    return select(written.c.id, written.c.external_id).add_cte(_audited(principal, layer, "create", written))


def _update_statement(layer: LayerSpec, principal: Principal) -> Select[Any]:
    """Return the statement that rewrites the staged stored rows (version guard) and audits each."""
    table, s = _table(layer), _stage
    before = (
        select(table.c.id, _snapshot(table).label("before"))
        .join_from(table, s, s.c.id == table.c.id)
        .cte("before")
    )
    values: dict[str, Any] = {
        "name": s.c.name,
        "properties": s.c.properties,
        "geom": _geom(s.c.geom),
        "version": table.c.version + 1,
        "updated_at": func.now(),
    }
    if table is areas:
        values["updated_by"] = literal(principal.name)
    elif layer.footprint is not None:
        values["footprint"] = _geom(s.c.footprint)
    rewritten = (
        update(table)
        .where(table.c.id == s.c.id, table.c.version == s.c.version, table.c.layer_id == layer.id)
        .values(values)
        .returning(table.c.id, table.c.external_id, _snapshot(table).label("after"))
        .cte("rewritten")
    )
    audit = _audited(principal, layer, "replace", rewritten, before)
    return select(rewritten.c.id, rewritten.c.external_id).add_cte(audit)


def _write_bulk(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    inserts: list[_Row],
    updates: list[_Row],
    outcome: UpsertOutcome,
) -> None:
    """Write a chunk set-based; a row the statements left out is named (taken id, changed meanwhile)."""
    for rows, statement in ((inserts, _insert_statement), (updates, _update_statement)):
        if not rows:
            continue
        _fill_stage(conn, layer, rows)
        written = {r.external_id: int(r.id) for r in conn.execute(statement(layer, principal))}
        for row in rows:
            if row.external_id in written:
                outcome.ids.append(written[row.external_id])
            elif row.stored is None:
                outcome.rejected.append(_taken(layer, row.candidate))
            else:
                outcome.rejected.append(_changed_meanwhile(row.candidate, row.stored.version))
        done = sum(1 for r in rows if r.external_id in written)
        if rows is inserts:
            outcome.inserted += done
        else:
            outcome.updated += done


def _feature(row: _Row) -> dict[str, Any]:
    properties = {**row.candidate.properties, "name": row.candidate.name, "external_id": row.external_id}
    return {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(row.candidate.geom),
        "properties": properties,
    }


def _write_one(
    conn: Connection, layer: LayerSpec, principal: Principal, row: _Row, outcome: UpsertOutcome
) -> None:
    """Insert or rewrite one row through edits.py; a refused row is recorded, its savepoint rolled back."""
    try:
        if row.stored is None:
            written = editing.create_feature(conn, layer, principal, _feature(row), announce=False)
            outcome.inserted += 1
        else:
            written = editing.replace_feature(
                conn, layer, principal, row.stored.id, _feature(row), row.stored.version, announce=False
            )
            outcome.updated += 1
    except KendaliError as exc:
        outcome.rejected.append(_refused(row.candidate, exc))
        return
    outcome.ids.append(written.id)


def _write_chunk(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    inserts: list[_Row],
    updates: list[_Row],
    outcome: UpsertOutcome,
) -> None:
    """Write a chunk in bulk; if the database refuses it, write it again row by row to name each refusal."""
    partial = UpsertOutcome()
    try:
        with conn.begin_nested():
            _write_bulk(conn, layer, principal, inserts, updates, partial)
    except (IntegrityError, DataError):
        for row in sorted(inserts + updates, key=lambda r: r.candidate.row):
            _write_one(conn, layer, principal, row, outcome)
        return
    outcome.inserted += partial.inserted
    outcome.updated += partial.updated
    outcome.rejected.extend(partial.rejected)
    outcome.ids.extend(partial.ids)


def _stop_if_asked(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise ImportCancelled


def upsert_features(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    candidates: Sequence[Candidate],
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> UpsertOutcome:
    """Write the candidates in the caller's transaction: insert by new external id, else update.

    A refused row leaves nothing behind and the rest go on; the caller decides whether to keep the result.
    One `batch` event names what changed (the dashboard reloads the layer once, and every worker retires
    the layer's tiles), instead of one `feature` event per row. Between chunks `cancelled` is asked, and
    ImportCancelled raised if it says so (the caller rolls back).
    """
    editing.editable_layer(principal, layer.id)
    outcome = UpsertOutcome()
    first_row: dict[str, int] = {}
    total = len(candidates)
    _stage.create(conn)
    for start in range(0, total, CHUNK):
        _stop_if_asked(cancelled)
        rows = _checked(layer, candidates[start : start + CHUNK], first_row, outcome)
        inserts, updates = _plan(layer, conn, rows, outcome)
        _write_chunk(conn, layer, principal, inserts, updates, outcome)
        if progress is not None:
            progress(min(start + CHUNK, total), total)
    _stop_if_asked(cancelled)
    _stage.drop(conn)
    if outcome.ids:
        ids = sorted(outcome.ids)
        record_event(conn, "batch", layer.id, {"count": len(ids), "ids": ids[:EVENT_IDS_MAX]})
    return outcome
