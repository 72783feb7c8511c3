"""User-defined area rules (geofences): stored alert rules scoped to an area, a district or a village.

Who may manage them: system admins; BPBD editors and supervisors and Kominfo supervisors (who run
response areas and the Command Center) on any layer they can see; and the owning agency's editors,
supervisors and admins on its own layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, func, insert, select, update

from geo.digits import whole_number
from layers.access.policy import Action, Principal, allows, layer_for
from layers.access.roles import role_matches
from layers.alerts.announce import resolve_open
from layers.alerts.errors import AlertObjectNotFound
from layers.alerts.rules import (
    PLACE_LAYERS,
    RULES,
    SCOPE_LAYERS,
    AlertRule,
    Condition,
    Scope,
    ScopeKind,
    Severity,
    check_rule,
)
from layers.alerts.tables import alert_rules, alerts
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec, Titles
from layers.errors import Forbidden, InvalidInput, LayerNotFound, Unauthorized
from layers.tables import areas, assets, audit_log

PREFIX = "custom-"
MAX_ACTIVE = 200
MAX_DURATION_MIN = 30 * 24 * 60
CROSS_AGENCY_MANAGERS = frozenset({"bpbd-editor", "bpbd-supervisor", "kominfo-supervisor"})

Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class ConditionIn(BaseModel):
    """A rule condition: latest status in `statuses` (or silent, with include_stale) for a while."""

    model_config = ConfigDict(extra="forbid")

    statuses: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=20
    )
    include_stale: bool = False
    min_duration_minutes: int = Field(0, ge=0, le=MAX_DURATION_MIN)


class ScopeIn(BaseModel):
    """Where a rule looks: one area (by id), a district or village (by code), or active response areas."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["area", "district", "village", "active_response_areas"]
    area_id: int | None = Field(None, ge=1, le=2**63 - 1)
    code: str | None = Field(None, pattern=r"^[0-9.]{2,24}$")

    @model_validator(mode="after")
    def _fits_kind(self) -> ScopeIn:
        wants_area, wants_code = self.kind == "area", self.kind in ("district", "village")
        if (self.area_id is not None) != wants_area or (self.code is not None) != wants_code:
            raise ValueError("area needs area_id; district and village need code; nothing else is allowed")
        return self


class TitleIn(BaseModel):
    """A rule title in Indonesian and English."""

    model_config = ConfigDict(extra="forbid")

    id: Text200
    en: Text200


class RuleIn(BaseModel):
    """A new area rule as a client sends it."""

    model_config = ConfigDict(extra="forbid")

    layer: str = Field(min_length=1, max_length=64)
    condition: ConditionIn
    scope: ScopeIn
    severity: Severity = Severity.WARNING
    title: TitleIn | None = None


def may_manage(principal: Principal, layer: LayerSpec) -> bool:
    """Return whether the caller may create or delete area rules on `layer`."""
    if not allows(principal, Action.READ, layer):
        return False
    owners = frozenset({f"{layer.owner}-editor", f"{layer.owner}-supervisor", f"{layer.owner}-admin"})
    return (
        principal.is_admin
        or allows(principal, Action.EDIT, layer)
        or any(role_matches(r, owners | CROSS_AGENCY_MANAGERS) for r in principal.roles)
    )


def _require_manager(principal: Principal, layer: LayerSpec) -> None:
    if principal.is_anonymous:
        raise Unauthorized("sign in to manage alert rules", "masuk untuk mengelola aturan peringatan")
    if not may_manage(principal, layer):
        raise Forbidden(
            f"you may not manage alert rules on {layer.id!r}",
            f"Anda tidak boleh mengelola aturan peringatan pada {layer.id!r}",
        )


def _rule_layer(principal: Principal, layer_id: str) -> LayerSpec:
    try:
        return layer_for(principal, layer_id)
    except LayerNotFound:
        raise InvalidInput(f"unknown layer {layer_id!r}", f"lapisan tidak dikenal {layer_id!r}") from None


def _place_name(conn: Connection, principal: Principal, scope: Scope) -> str | None:
    """Return the name of the scope's area, district or village; raise InvalidInput if it is unknown."""
    if scope.kind is ScopeKind.AREA:
        row = conn.execute(
            select(areas.c.name, areas.c.layer_id).where(
                areas.c.id == scope.area_id, areas.c.deleted_at.is_(None)
            )
        ).one_or_none()
        layer = LAYERS.get(row.layer_id) if row is not None else None
        if row is None or layer is None or not allows(principal, Action.READ, layer):
            raise InvalidInput(f"unknown area {scope.area_id}", f"area {scope.area_id} tidak dikenal")
        return str(row.name)
    if scope.kind in PLACE_LAYERS:
        place = PLACE_LAYERS[scope.kind]
        name = conn.execute(
            select(assets.c.name).where(
                assets.c.layer_id == place, assets.c.properties["code"].astext == scope.code
            )
        ).scalar_one_or_none()
        if name is None:
            raise InvalidInput(
                f"unknown {scope.kind} code {scope.code!r}", f"kode {scope.kind} {scope.code!r} tidak dikenal"
            )
        return str(name)
    return None


def _default_title(layer: LayerSpec, condition: Condition, scope: Scope, place: str | None) -> Titles:
    assert layer.status is not None  # noqa: S101 - checked by check_rule
    labels = [layer.status.labels[s] for s in sorted(condition.statuses)]
    what_id = ", ".join(t.id for t in labels) or "tidak melapor"
    what_en = ", ".join(t.en for t in labels) or "not reporting"
    where_id = place or "area tanggap bencana aktif"
    where_en = place or "active response areas"
    return Titles(f"{layer.title.id}: {what_id} di {where_id}", f"{layer.title.en}: {what_en} in {where_en}")


def create_rule(conn: Connection, principal: Principal, new: RuleIn) -> AlertRule:
    """Check and store a user-defined area rule; it takes effect at the next evaluation."""
    layer = _rule_layer(principal, new.layer)
    _require_manager(principal, layer)
    condition = Condition(
        statuses=frozenset(new.condition.statuses),
        include_stale=new.condition.include_stale,
        min_duration=timedelta(minutes=new.condition.min_duration_minutes),
    )
    scope = Scope(ScopeKind(new.scope.kind), new.scope.area_id, new.scope.code)
    draft = AlertRule(PREFIX + "0", Titles("", ""), new.severity, layer.id, condition, scope, principal.name)
    try:
        check_rule(draft)
    except ValueError as exc:
        raise InvalidInput(f"invalid condition: {exc}", f"kondisi tidak sah: {exc}") from None
    place = _place_name(conn, principal, scope)
    active = conn.execute(
        select(func.count()).select_from(alert_rules).where(alert_rules.c.active)
    ).scalar_one()
    if active >= MAX_ACTIVE:
        raise InvalidInput(
            f"at most {MAX_ACTIVE} active area rules", f"paling banyak {MAX_ACTIVE} aturan area aktif"
        )
    title = (
        Titles(new.title.id, new.title.en) if new.title else _default_title(layer, condition, scope, place)
    )
    row_id = conn.execute(
        insert(alert_rules)
        .values(
            layer_id=layer.id,
            title_id=title.id,
            title_en=title.en,
            severity=new.severity.value,
            condition=new.condition.model_dump(),
            scope=scope.kind.value,
            area_id=scope.area_id,
            scope_code=scope.code,
            created_by=principal.name,
        )
        .returning(alert_rules.c.id)
    ).scalar_one()
    rule = AlertRule(f"{PREFIX}{row_id}", title, new.severity, layer.id, condition, scope, principal.name)
    _audit(conn, principal, "create", rule)
    return rule


def _audit(conn: Connection, principal: Principal, action: str, rule: AlertRule) -> None:
    conn.execute(
        insert(audit_log).values(
            actor=principal.name,
            action=action,
            target="alert_rule",
            target_id=rule.id,
            layer_id=rule.layer_id,
            after=rule_as_json(rule, "en") if action == "create" else None,
        )
    )


def _from_row(row: Any) -> AlertRule:
    cond = row.condition
    return AlertRule(
        id=f"{PREFIX}{row.id}",
        title=Titles(row.title_id, row.title_en),
        severity=Severity(row.severity),
        layer_id=row.layer_id,
        condition=Condition(
            statuses=frozenset(cond.get("statuses", ())),
            include_stale=bool(cond.get("include_stale", False)),
            min_duration=timedelta(minutes=int(cond.get("min_duration_minutes", 0))),
        ),
        scope=Scope(ScopeKind(row.scope), row.area_id, row.scope_code),
        created_by=row.created_by,
    )


def active_rules(conn: Connection, layer_ids: Iterable[str] | None = None) -> list[AlertRule]:
    """Return the active user-defined rules, optionally of some layers only."""
    stmt = select(alert_rules).where(alert_rules.c.active).order_by(alert_rules.c.id).limit(MAX_ACTIVE)
    if layer_ids is not None:
        stmt = stmt.where(alert_rules.c.layer_id.in_(sorted(set(layer_ids))))
    return [_from_row(row) for row in conn.execute(stmt)]


def _visible(principal: Principal, rule: AlertRule) -> bool:
    """A rule is seen by who may read its layer and the layer its scope is drawn from (its title names
    that scope: a rule on response areas is not news to a caller who may not see them)."""
    scope_layer = SCOPE_LAYERS.get(rule.scope.kind)
    return all(
        lid in LAYERS and allows(principal, Action.READ, LAYERS[lid])
        for lid in (rule.layer_id, *([scope_layer] if scope_layer else []))
    )


def list_rules(conn: Connection, principal: Principal) -> list[AlertRule]:
    """Return the declared rules, then the active user-defined ones, on layers the caller may see."""
    return [r for r in [*RULES.values(), *active_rules(conn)] if _visible(principal, r)]


def _custom_id(rule_id: str) -> int | None:
    return whole_number(rule_id.removeprefix(PREFIX)) if rule_id.startswith(PREFIX) else None


def get_rule(conn: Connection, principal: Principal, rule_id: str) -> AlertRule:
    """Return one rule the caller may see, declared or user-defined (active only)."""
    rule = RULES.get(rule_id)
    number = _custom_id(rule_id)
    if rule is None and number is not None:
        row = conn.execute(
            select(alert_rules).where(alert_rules.c.id == number, alert_rules.c.active)
        ).one_or_none()
        rule = _from_row(row) if row is not None else None
    if rule is None or not _visible(principal, rule):
        raise AlertObjectNotFound("alert rule", "aturan peringatan", rule_id[:64])
    return rule


def deactivate_rule(conn: Connection, principal: Principal, rule_id: str, now: datetime) -> int:
    """Switch a user-defined rule off and resolve its open alerts; return how many were resolved."""
    rule = get_rule(conn, principal, rule_id)
    _require_manager(principal, LAYERS[rule.layer_id])
    number = _custom_id(rule.id)
    if rule.declared or number is None:
        raise Forbidden(
            "rules declared in code cannot be deleted",
            "aturan yang dideklarasikan dalam kode tidak dapat dihapus",
        )
    conn.execute(update(alert_rules).where(alert_rules.c.id == number).values(active=False))
    _audit(conn, principal, "delete", rule)
    return len(resolve_open(conn, [alerts.c.rule_id == rule.id], now))


def rule_as_json(rule: AlertRule, lang: str) -> dict[str, Any]:
    """Return a rule as plain JSON with its title in `lang`."""
    cond = rule.condition
    return {
        "id": rule.id,
        "title": rule.title.pick(lang),
        "layer": rule.layer_id,
        "severity": rule.severity.value,
        "declared": rule.declared,
        "condition": {
            "statuses": sorted(cond.statuses),
            "include_stale": cond.include_stale,
            "min_duration_minutes": int(cond.min_duration.total_seconds() // 60),
        },
        "scope": {"kind": rule.scope.kind.value, "area_id": rule.scope.area_id, "code": rule.scope.code},
        "created_by": rule.created_by,
    }
