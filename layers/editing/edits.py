"""Writes to editable layers (OGC API Features Part 4): versioned, audited, all or nothing."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Connection,
    LargeBinary,
    Table,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from layers.access import policy
from layers.access.policy import Action, Principal
from layers.catalog.spec import LayerSpec, Storage
from layers.db import translated_errors
from layers.editing.validation import validate_geometry, validate_properties
from layers.errors import Conflict, FeatureNotFound, Forbidden, InvalidInput, PreconditionFailed
from layers.live.events import record_event
from layers.tables import area_versions, areas, assets, audit_log

# Fields the server sets or derives; a client sending one is told so rather than silently ignored.
SERVER_OWNED = frozenset(
    "id version created_at updated_at deleted_at agency created_by updated_by"
    " status status_value status_unit observed_at stale demo".split()
)
NAME_MAX = 200
EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/\-]{0,99}")
HISTORY_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Written:
    """The id and new version of a feature just written."""

    id: int
    version: int


@dataclass(frozen=True, slots=True)
class _State:
    """A stored feature as read (and locked) before a write, or as written."""

    id: int
    version: int
    name: str
    external_id: str | None
    properties: dict[str, Any]
    geometry: dict[str, Any]
    deleted: bool
    wkb: bytes | None = None

    def snapshot(self) -> dict[str, Any]:
        """Return what the audit log keeps of this state."""
        return {
            "name": self.name,
            "external_id": self.external_id,
            "properties": self.properties,
            "geometry": self.geometry,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class _Draft:
    """A feature from a client, checked against its layer, ready to store."""

    name: str
    external_id: str | None
    properties: dict[str, Any]
    geom: BaseGeometry


# --- policy and input ---------------------------------------------------------------------------------


def editable_layer(principal: Principal, layer_id: str) -> LayerSpec:
    """Return a layer the caller may edit; a layer they cannot read is reported as missing."""
    layer = policy.layer_for(principal, layer_id)
    if not policy.allows(principal, Action.EDIT, layer):
        raise Forbidden(
            f"you may not edit features of {layer.id!r}", f"Anda tidak boleh mengubah fitur {layer.id!r}"
        )
    return layer


def merge_patch(target: object, patch: object) -> object:
    """Return `target` with a JSON merge patch (RFC 7396) applied; null removes a member."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _feature_members(
    feature: object, feature_id: int | None = None, *, patch: bool = False
) -> Mapping[str, Any]:
    """Return the body as a mapping after checking it is a GeoJSON Feature (a patch may omit "type")."""
    if not isinstance(feature, Mapping) or feature.get("type", "Feature" if patch else None) != "Feature":
        raise InvalidInput(
            "the body must be a GeoJSON Feature object", "isi harus berupa objek GeoJSON Feature"
        )
    if feature_id is not None and "id" in feature and str(feature["id"]) != str(feature_id):
        raise InvalidInput(
            f"the body's id does not match feature {feature_id}",
            f"id di dalam isi tidak sama dengan fitur {feature_id}",
            field="id",
        )
    return feature


# What a GET puts in a feature's properties; a client that sends a feature back unchanged is not refused.
READ_ECHO = frozenset(
    "version created_by updated_at status status_value status_unit observed_at stale".split()
)


def _without_echo(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the read-only fields a GET adds, so a feature read and sent back is accepted."""
    return {k: v for k, v in properties.items() if k not in READ_ECHO}


def _refuse_server_owned(layer: LayerSpec, properties: Mapping[str, Any]) -> None:
    # A layer may declare a property with a server-owned name (city_apps has `agency`): it is the layer's.
    owned = sorted((SERVER_OWNED - set(layer.properties.model_fields)).intersection(properties))
    if owned:
        listed = ", ".join(owned)
        raise InvalidInput(
            f"these fields are set by the server and cannot be sent: {listed}",
            f"kolom berikut diisi oleh server dan tidak boleh dikirim: {listed}",
            fields=owned,
        )


def _name(value: object) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidInput(
            f"properties.name is required: a text of 1 to {NAME_MAX} characters",
            f"properties.name wajib diisi: teks 1 sampai {NAME_MAX} karakter",
            field="name",
        )
    return name


def _external_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or EXTERNAL_ID.fullmatch(value) is None:
        raise InvalidInput(
            "properties.external_id must be 1 to 100 letters, digits or . _ : / - (starting alphanumeric)",
            "properties.external_id harus 1 sampai 100 huruf, angka atau . _ : / - (diawali alfanumerik)",
            field="external_id",
        )
    return value


def _draft(layer: LayerSpec, properties: object, geom: BaseGeometry) -> _Draft:
    """Return a draft from client properties (name and external_id included) and a checked geometry."""
    if not isinstance(properties, Mapping):
        raise InvalidInput("properties must be a JSON object", "properties harus berupa objek JSON")
    rest = _without_echo(properties)
    _refuse_server_owned(layer, rest)
    name = _name(rest.pop("name", None))
    external_id = _external_id(rest.pop("external_id", None))
    return _Draft(name, external_id, validate_properties(layer, rest), geom)


def _draft_from_feature(layer: LayerSpec, feature: object, feature_id: int | None = None) -> _Draft:
    members = _feature_members(feature, feature_id)
    geom = validate_geometry(layer, members.get("geometry"))
    return _draft(layer, members.get("properties"), geom)


# --- SQL pieces ---------------------------------------------------------------------------------------


def _table(layer: LayerSpec) -> Table:
    return areas if layer.storage is Storage.AREAS else assets


def _geom_sql(geom: BaseGeometry) -> ColumnElement[Any]:
    # EWKB keeps every bit of the validated coordinates and carries the SRID inside the bound value.
    ewkb = shapely.to_wkb(shapely.set_srid(geom, 4326), include_srid=True)
    return func.ST_GeomFromEWKB(literal(ewkb, LargeBinary()))


def _state_columns(table: Table) -> list[ColumnElement[Any]]:
    deleted = table.c.deleted_at.is_not(None) if table is areas else false()
    return [
        table.c.id,
        table.c.version,
        table.c.name,
        table.c.external_id,
        table.c.properties,
        func.ST_AsGeoJSON(table.c.geom).cast(JSON).label("geometry"),
        deleted.label("deleted"),
    ]


def _one_state(conn: Connection, stmt: Executable) -> _State | None:
    row = conn.execute(stmt).mappings().one_or_none()
    return None if row is None else _State(**row)


def _state(conn: Connection, stmt: Executable) -> _State:
    return _State(**conn.execute(stmt).mappings().one())


def _identified(layer: LayerSpec, feature_id: int, *, deleted: bool = False) -> list[ColumnElement[bool]]:
    """Return the clauses that find one feature of a layer; deleted areas only when asked."""
    table = _table(layer)
    where = [table.c.id == feature_id, table.c.layer_id == layer.id]
    if table is areas and not deleted:
        where.append(table.c.deleted_at.is_(None))
    return where


def _lock(
    conn: Connection, layer: LayerSpec, feature_id: int, if_match: int | None, *, deleted: bool = False
) -> _State:
    """Return the feature's current state, locked for this transaction, after the If-Match check."""
    table = _table(layer)
    wkb = func.ST_AsBinary(table.c.geom).label("wkb")
    stmt = select(*_state_columns(table), wkb).where(*_identified(layer, feature_id, deleted=deleted))
    state = _one_state(conn, stmt.with_for_update())
    if state is None:
        raise FeatureNotFound(layer.id, feature_id)
    if if_match is not None and state.version != if_match:
        raise _stale(if_match, state.version)
    return state


def _stale(sent: int, current: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"the feature has changed: you sent version {sent}, the current version is {current}",
        f"fitur sudah berubah: Anda mengirim versi {sent}, versi saat ini {current}",
        current_version=current,
    )


def _changed_meanwhile(read: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"the feature changed after version {read} was read; read it again",
        f"fitur berubah setelah versi {read} dibaca; baca ulang",
    )


def _check_external_id_free(
    conn: Connection, layer: LayerSpec, external_id: str | None, own_id: int | None
) -> None:
    if external_id is None:
        return
    table = _table(layer)
    where = [table.c.layer_id == layer.id, table.c.external_id == external_id]
    if own_id is not None:
        where.append(table.c.id != own_id)
    if table is areas:
        where.append(table.c.deleted_at.is_(None))
    if conn.execute(select(table.c.id).where(*where).limit(1)).first() is not None:
        raise Conflict(
            f"{layer.id!r} already has a feature with external_id {external_id!r}",
            f"{layer.id!r} sudah memiliki fitur dengan external_id {external_id!r}",
            field="external_id",
        )


def _content(
    layer: LayerSpec, principal: Principal, draft: _Draft, external_id: str | None
) -> dict[str, Any]:
    """Return the column values a create or rewrite stores for a draft."""
    values: dict[str, Any] = {
        "name": draft.name,
        "external_id": external_id,
        "properties": draft.properties,
        "geom": _geom_sql(draft.geom),
    }
    if layer.storage is Storage.AREAS:
        values["updated_by"] = principal.name
    elif layer.footprint is not None:
        props = layer.properties.model_validate(draft.properties)
        values["footprint"] = _geom_sql(layer.footprint(draft.geom, props))
    return values


def _bumped(table: Table) -> dict[str, Any]:
    return {"version": table.c.version + 1, "updated_at": func.now()}


def _audit(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    action: str,
    before: _State | None,
    after: _State | None,
    announce: bool = True,
) -> None:
    target = after or before
    conn.execute(
        insert(audit_log).values(
            actor=principal.name,
            action=action,
            target=_table(layer).name,
            target_id=None if target is None else str(target.id),
            layer_id=layer.id,
            # JSONB would store Python None as a JSON null; SQL NULL says "no such state".
            before=null() if before is None else before.snapshot(),
            after=null() if after is None else after.snapshot(),
        )
    )
    if target is not None and announce:
        record_event(conn, "feature", layer.id, {"ids": [target.id]})


@contextmanager
def _atomic(conn: Connection) -> Iterator[None]:
    """Run a write in a savepoint, so a failure leaves nothing behind and the caller can go on."""
    with translated_errors(), conn.begin_nested():
        yield


# --- writes -------------------------------------------------------------------------------------------


def create_feature(
    conn: Connection, layer: LayerSpec, principal: Principal, feature: object, *, announce: bool = True
) -> Written:
    """Store a new feature from a GeoJSON Feature; the server sets id, version, agency and author.

    `announce=False` records no `feature` event: a bulk writer announces its whole batch once.
    """
    editable_layer(principal, layer.id)
    draft = _draft_from_feature(layer, feature)
    table = _table(layer)
    external_id = draft.external_id
    if external_id is None and table is assets:
        external_id = f"{layer.id}-{secrets.token_hex(4)}"
    values = {**_content(layer, principal, draft, external_id), "layer_id": layer.id, "agency": layer.owner}
    if table is areas:
        values["created_by"] = principal.name
    with _atomic(conn):
        _check_external_id_free(conn, layer, external_id, own_id=None)
        after = _state(conn, insert(table).values(values).returning(*_state_columns(table)))
        _audit(conn, layer, principal, "create", None, after, announce)
    return Written(id=after.id, version=after.version)


def _rewrite(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    current: _State,
    draft: _Draft,
    action: str,
    announce: bool = True,
) -> Written:
    """Overwrite a locked feature with a draft, bump its version and audit the change."""
    table = _table(layer)
    # An identifier the client leaves out is kept: devices and imports find the feature by it.
    external_id = draft.external_id or current.external_id
    _check_external_id_free(conn, layer, external_id, own_id=current.id)
    stmt = (
        update(table)
        .where(table.c.id == current.id, table.c.version == current.version)
        .values({**_content(layer, principal, draft, external_id), **_bumped(table)})
        .returning(*_state_columns(table))
    )
    after = _one_state(conn, stmt)
    if after is None:
        raise _changed_meanwhile(current.version)
    _audit(conn, layer, principal, action, current, after, announce)
    return Written(id=after.id, version=after.version)


def replace_feature(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    feature_id: int,
    feature: object,
    if_match: int | None,
    *,
    announce: bool = True,
) -> Written:
    """Replace a feature's name, properties and geometry; `if_match` is the version the client read."""
    editable_layer(principal, layer.id)
    draft = _draft_from_feature(layer, feature, feature_id)
    with _atomic(conn):
        current = _lock(conn, layer, feature_id, if_match)
        return _rewrite(conn, layer, principal, current, draft, "replace", announce)


def update_feature(
    conn: Connection,
    layer: LayerSpec,
    principal: Principal,
    feature_id: int,
    patch: object,
    if_match: int | None,
) -> Written:
    """Merge-patch a feature's properties (RFC 7396) and replace its geometry if one is given."""
    editable_layer(principal, layer.id)
    members = _feature_members(patch, feature_id, patch=True)
    changes = members.get("properties", {})
    if isinstance(changes, Mapping):
        changes = _without_echo(changes)
        _refuse_server_owned(layer, changes)
    geom = validate_geometry(layer, members["geometry"]) if "geometry" in members else None
    with _atomic(conn):
        current = _lock(conn, layer, feature_id, if_match)
        stored = {**current.properties, "name": current.name, "external_id": current.external_id}
        kept = geom if geom is not None else shapely.from_wkb(current.wkb)
        draft = _draft(layer, merge_patch(stored, changes), kept)
        return _rewrite(conn, layer, principal, current, draft, "update")


def delete_feature(
    conn: Connection, layer: LayerSpec, principal: Principal, feature_id: int, if_match: int | None
) -> None:
    """Delete a feature: areas are soft-deleted (recoverable), assets removed (the audit log keeps them)."""
    editable_layer(principal, layer.id)
    table = _table(layer)
    with _atomic(conn):
        current = _lock(conn, layer, feature_id, if_match)
        guard = [table.c.id == current.id, table.c.version == current.version]
        if table is areas:
            values = {**_bumped(table), "deleted_at": func.now(), "updated_by": principal.name}
            done = conn.execute(update(table).where(*guard).values(values)).rowcount
        else:
            done = conn.execute(delete(table).where(*guard)).rowcount
        if done != 1:
            raise _changed_meanwhile(current.version)
        _audit(conn, layer, principal, "delete", current, None)


def restore_area(conn: Connection, layer: LayerSpec, principal: Principal, feature_id: int) -> Written:
    """Undo the soft delete of an area; it comes back as a new version."""
    editable_layer(principal, layer.id)
    _require_areas(layer)
    with _atomic(conn):
        current = _lock(conn, layer, feature_id, None, deleted=True)
        if not current.deleted:
            raise Conflict(
                f"area {feature_id} is not deleted", f"area {feature_id} tidak dalam keadaan terhapus"
            )
        _check_external_id_free(conn, layer, current.external_id, own_id=current.id)
        values = {**_bumped(areas), "deleted_at": None, "updated_by": principal.name}
        stmt = update(areas).where(areas.c.id == current.id).values(values).returning(*_state_columns(areas))
        after = _state(conn, stmt)
        _audit(conn, layer, principal, "restore", current, after)
    return Written(id=after.id, version=after.version)


# --- reads for writers --------------------------------------------------------------------------------


def current_version(conn: Connection, layer: LayerSpec, feature_id: int) -> int:
    """Return the current version of a live feature, or raise FeatureNotFound."""
    stmt = select(_table(layer).c.version).where(*_identified(layer, feature_id))
    version = conn.execute(stmt).scalar_one_or_none()
    if version is None:
        raise FeatureNotFound(layer.id, feature_id)
    return int(version)


def _require_areas(layer: LayerSpec) -> None:
    if layer.storage is not Storage.AREAS:
        raise InvalidInput(
            f"{layer.id!r} keeps no version history; only area layers do",
            f"{layer.id!r} tidak menyimpan riwayat versi; hanya lapisan area yang menyimpannya",
        )


def area_history(
    conn: Connection, layer: LayerSpec, feature_id: int, *, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """Return the versions of an area, deleted ones included, newest first."""
    _require_areas(layer)
    v = area_versions
    stmt = (
        select(
            v.c.version,
            v.c.op,
            v.c.name,
            v.c.properties,
            func.ST_AsGeoJSON(v.c.geom).cast(JSON).label("geometry"),
            v.c.changed_by,
            v.c.changed_at,
            v.c.deleted,
        )
        .where(v.c.area_id == feature_id, v.c.layer_id == layer.id)
        .order_by(v.c.version.desc())
        .limit(limit)
    )
    rows = conn.execute(stmt).mappings().all()
    if not rows:
        raise FeatureNotFound(layer.id, feature_id)
    return [{**row, "changed_at": row["changed_at"].isoformat()} for row in rows]
