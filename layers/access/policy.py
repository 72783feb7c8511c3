"""Who may do what: the one policy every path that reads or writes data goes through."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import translate
from functools import lru_cache
from typing import Protocol, get_type_hints

from layers.access.roles import PUBLIC, SYSTEM_ADMIN, parse_role, role_matches
from layers.catalog import LAYERS
from layers.catalog.spec import Access, LayerSpec, Visible
from layers.errors import Forbidden, LayerNotFound, Unauthorized


class Action(StrEnum):
    """Things a caller can do to a layer."""

    READ = "read"
    EDIT = "edit"
    REPORT = "report"  # push live status


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a user, an API key, or nobody."""

    name: str
    roles: frozenset[str] = frozenset()
    agency: str | None = None
    layer_scope: frozenset[str] | None = None  # an API key may be limited to some layers
    kind: str = "anonymous"  # anonymous | user | key
    # A device key may report only for some assets (`[layer:]pattern`, see in_asset_scope) and receive
    # MQTT messages only on some topic filters; None: no such limit.
    asset_scope: tuple[str, ...] | None = None
    topic_scope: tuple[str, ...] | None = None

    @property
    def is_anonymous(self) -> bool:
        """Return whether nobody signed in."""
        return self.kind == "anonymous"

    @property
    def is_admin(self) -> bool:
        """Return whether the caller is a system administrator."""
        return SYSTEM_ADMIN in self.roles

    @property
    def is_staff(self) -> bool:
        """Return whether the caller holds any agency role (internal layers are for staff)."""
        return any(r not in (PUBLIC,) for r in self.roles)


ANONYMOUS = Principal(name="anonymous", roles=frozenset({PUBLIC}))


def principal_for(
    name: str,
    roles: Iterable[str],
    *,
    kind: str,
    scope: Iterable[str] | None = None,
    assets: Iterable[str] | None = None,
    topics: Iterable[str] | None = None,
) -> Principal:
    """Build a principal, deriving its agency from its roles (the first agency role wins)."""
    role_set = frozenset(roles)
    agencies = sorted({a for a, _ in map(parse_role, role_set) if a is not None})
    return Principal(
        name=name,
        roles=role_set,
        agency=agencies[0] if agencies else None,
        layer_scope=None if scope is None else frozenset(scope),
        kind=kind,
        asset_scope=None if assets is None else tuple(assets),
        topic_scope=None if topics is None else tuple(topics),
    )


def require_admin(principal: Principal, what_en: str, what_id: str) -> Principal:
    """Return the caller if a system administrator; else raise Unauthorized (nobody) or Forbidden."""
    if principal.is_anonymous:
        raise Unauthorized(
            f"sign in as an administrator to {what_en}", f"masuk sebagai admin untuk {what_id}"
        )
    if not principal.is_admin:
        raise Forbidden(f"only administrators may {what_en}", f"hanya admin yang boleh {what_id}")
    return principal


class Guarded(Protocol):
    """Anything read under the layer rules: a stored layer or a query layer."""

    @property
    def id(self) -> str:
        """The layer's or query's id (API keys may be scoped to ids)."""

    @property
    def access(self) -> Access:
        """Who may read it at all."""

    @property
    def readers(self) -> frozenset[str]:
        """The roles that may read it when restricted."""


def _in_scope(principal: Principal, layer: Guarded) -> bool:
    return principal.layer_scope is None or layer.id in principal.layer_scope


def may_read(principal: Principal, thing: Guarded) -> bool:
    """Return whether `principal` may read a stored layer or run a query layer."""
    return _in_scope(principal, thing) and _can_read(principal, thing)


def _can_read(principal: Principal, layer: Guarded) -> bool:
    if principal.is_admin:
        return True
    if layer.access is Access.PUBLIC:
        return True
    if layer.access is Access.INTERNAL:
        return principal.is_staff
    return any(role_matches(r, layer.readers) for r in principal.roles)


def allows(principal: Principal, action: Action, layer: LayerSpec) -> bool:
    """Return whether `principal` may do `action` on `layer`."""
    if not _in_scope(principal, layer):
        return False
    if action is Action.READ:
        return _can_read(principal, layer)
    if principal.is_admin:
        return True
    if action is Action.EDIT:
        return any(role_matches(r, layer.editors) for r in principal.roles)
    # Reporting status: a device key of the owning agency, or an editor.
    owner_roles = frozenset({f"{layer.owner}-operator", f"{layer.owner}-editor", f"{layer.owner}-admin"})
    return any(role_matches(r, owner_roles | layer.editors) for r in principal.roles)


def split_asset_entry(entry: str) -> tuple[str | None, str]:
    """Split an asset-scope entry into (layer id or None, pattern) at its first `:`."""
    layer_id, colon, pattern = entry.partition(":")
    return (layer_id, pattern) if colon else (None, entry)


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    # `[` is made literal, so that only `*` and `?` are wildcards; fnmatch's regex has no catastrophic
    # backtracking (atomic groups), whatever the number of `*`.
    return re.compile(translate(pattern.replace("[", "[[]")))


def in_asset_scope(principal: Principal, layer_id: str, external_id: str) -> bool:
    """Return whether a key's asset scope covers an asset; no scope covers every asset.

    An entry is `pattern` (any layer the key may report for) or `layer:pattern` (that layer only); the
    pattern matches the whole external id, case-sensitively, `*` standing for any run of characters and
    `?` for one, every other character for itself. External ids holding `:` are written qualified.
    """
    if principal.asset_scope is None:
        return True
    for entry in principal.asset_scope:
        layer, pattern = split_asset_entry(entry)
        if layer in (None, layer_id) and _glob(pattern).match(external_id):
            return True
    return False


def may_report_asset(principal: Principal, layer_id: str, external_id: str) -> bool:
    """Return whether `principal` may report status for the asset `external_id` of `layer_id`."""
    layer = LAYERS.get(layer_id)
    return (
        layer is not None
        and allows(principal, Action.REPORT, layer)
        and in_asset_scope(principal, layer_id, external_id)
    )


def readable_layers(principal: Principal) -> list[LayerSpec]:
    """Return the layers `principal` may see, in catalog order."""
    return [spec for spec in LAYERS.values() if allows(principal, Action.READ, spec)]


def layer_for(principal: Principal, layer_id: str) -> LayerSpec:
    """Return a layer the caller may read; a hidden layer is reported as missing, not forbidden."""
    spec = LAYERS.get(layer_id)
    if spec is None or not allows(principal, Action.READ, spec):
        raise LayerNotFound(layer_id)
    return spec


def sees(principal: Principal, visible: Visible | None) -> bool:
    """Return whether a caller sees an attribute marked `visible` (None: everyone who sees the layer)."""
    if visible is None or principal.is_admin:
        return True
    if visible.roles:
        return any(role_matches(r, visible.roles) for r in principal.roles)
    return principal.is_staff


@dataclass(frozen=True, slots=True)
class FieldView:
    """Which of a layer's attributes a caller sees."""

    properties: tuple[str, ...]
    status_value: bool = True
    hidden: tuple[str, ...] = field(default=())


def field_view(principal: Principal, layer: LayerSpec) -> FieldView:
    """Return the properties and status value a caller may see on a layer they can read."""
    shown: list[str] = []
    hidden: list[str] = []
    for name, visible in property_visibility(layer).items():
        (shown if sees(principal, visible) else hidden).append(name)
    value_ok = layer.status is None or sees(principal, layer.status.value_visible)
    return FieldView(properties=tuple(shown), status_value=value_ok, hidden=tuple(hidden))


def property_visibility(layer: LayerSpec) -> dict[str, Visible | None]:
    """Return each declared property with its visibility marker (None when unmarked)."""
    hints = get_type_hints(layer.properties, include_extras=True)
    out: dict[str, Visible | None] = {}
    for name in layer.properties.model_fields:
        marker = next(
            (m for m in getattr(hints.get(name), "__metadata__", ()) if isinstance(m, Visible)), None
        )
        out[name] = marker
    return out
