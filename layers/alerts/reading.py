"""Reading and acknowledging alerts, through the one access policy: only alerts on layers (and areas)
the caller may see; acknowledged by the owning agency's staff or the Command Center."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Select, case, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from layers.access.policy import Principal, layer_for, readable_layers
from layers.access.roles import role_matches
from layers.alerts.announce import RETURNED, announce, change_from
from layers.alerts.errors import AlertObjectNotFound
from layers.alerts.tables import alerts
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec
from layers.errors import Conflict, Forbidden, Unauthorized
from layers.tables import areas, assets

StateFilter = Literal["open", "acknowledged", "resolved", "active", "all"]
MAX_LIMIT = 500
# The Command Center acknowledges alerts of every agency; agencies acknowledge their own.
CROSS_AGENCY_ACKNOWLEDGERS = frozenset({"kominfo-operator", "kominfo-supervisor"})


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """A page of alerts: which state, which layer, how many, and before which id (newest first)."""

    state: StateFilter = "open"
    layer_id: str | None = None
    limit: int = 100
    before_id: int | None = None


_STATE = case(
    (alerts.c.resolved_at.is_not(None), "resolved"),
    (alerts.c.acknowledged_at.is_not(None), "acknowledged"),
    else_="open",
).label("state")

_STATE_WHERE: dict[str, list[ColumnElement[bool]]] = {
    "open": [alerts.c.resolved_at.is_(None), alerts.c.acknowledged_at.is_(None)],
    "acknowledged": [alerts.c.resolved_at.is_(None), alerts.c.acknowledged_at.is_not(None)],
    "resolved": [alerts.c.resolved_at.is_not(None)],
    "active": [alerts.c.resolved_at.is_(None)],
    "all": [],
}


def _visible(principal: Principal) -> list[ColumnElement[bool]]:
    """Return SQL limiting alerts to layers, and areas, the caller may read (areas are joined in _select)."""
    readable = [layer.id for layer in readable_layers(principal)]
    return [alerts.c.layer_id.in_(readable), or_(alerts.c.area_id.is_(None), areas.c.layer_id.in_(readable))]


def _select() -> Select[Any]:
    return select(
        alerts,
        _STATE,
        assets.c.name.label("asset_name"),
        areas.c.name.label("area_name"),
    ).select_from(
        alerts.join(assets, assets.c.id == alerts.c.asset_id).outerjoin(areas, areas.c.id == alerts.c.area_id)
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _as_json(row: Any, principal: Principal, lang: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "rule": row.rule_id,
        "layer": row.layer_id,
        "severity": row.severity,
        "state": row.state,
        "status": row.status,
        "asset": {"id": row.asset_id, "name": row.asset_name},
        "area": None if row.area_id is None else {"id": row.area_id, "name": row.area_name},
        "message": row.message.get(lang) or row.message.get("id", ""),
        "since": _iso(row.since),
        "opened_at": _iso(row.opened_at),
        "last_seen_at": _iso(row.last_seen_at),
        "acknowledged_at": _iso(row.acknowledged_at),
        # Who acknowledged is staff information, not for the public view of public layers.
        "acknowledged_by": row.acknowledged_by if principal.is_staff or principal.is_admin else None,
        "resolved_at": _iso(row.resolved_at),
    }


def list_alerts(conn: Connection, principal: Principal, query: AlertQuery, lang: str) -> list[dict[str, Any]]:
    """Return a page of alerts the caller may see, newest first."""
    where = [*_visible(principal), *_STATE_WHERE[query.state]]
    if query.layer_id is not None:
        where.append(alerts.c.layer_id == layer_for(principal, query.layer_id).id)
    if query.before_id is not None:
        where.append(alerts.c.id < query.before_id)
    stmt = _select().where(*where).order_by(alerts.c.id.desc()).limit(min(query.limit, MAX_LIMIT))
    return [_as_json(row, principal, lang) for row in conn.execute(stmt)]


def get_alert(conn: Connection, principal: Principal, alert_id: int, lang: str) -> dict[str, Any]:
    """Return one alert the caller may see, or raise AlertObjectNotFound."""
    row = conn.execute(_select().where(alerts.c.id == alert_id, *_visible(principal))).one_or_none()
    if row is None:
        raise AlertObjectNotFound("alert", "peringatan", alert_id)
    return _as_json(row, principal, lang)


def may_acknowledge(principal: Principal, layer: LayerSpec) -> bool:
    """Return whether the caller may acknowledge alerts on `layer`."""
    own = frozenset(f"{layer.owner}-{f}" for f in ("operator", "editor", "supervisor", "admin"))
    return principal.is_admin or any(
        role_matches(r, own | CROSS_AGENCY_ACKNOWLEDGERS) for r in principal.roles
    )


def acknowledge(
    conn: Connection, principal: Principal, alert_id: int, now: datetime, lang: str = "id"
) -> dict[str, Any]:
    """Mark an open alert acknowledged by the caller (again: no change); a resolved one is a conflict."""
    current = get_alert(conn, principal, alert_id, lang)
    if principal.is_anonymous:
        raise Unauthorized("sign in to acknowledge alerts", "masuk untuk mengonfirmasi peringatan")
    if not may_acknowledge(principal, LAYERS[current["layer"]]):
        raise Forbidden("you may not acknowledge this alert", "Anda tidak boleh mengonfirmasi peringatan ini")
    if current["state"] == "resolved":
        raise Conflict("the alert is already resolved", "peringatan sudah selesai")
    stmt = (
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None), alerts.c.resolved_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=principal.name)
        .returning(*RETURNED)
    )
    announce(conn, [change_from(row, "acknowledged") for row in conn.execute(stmt)])
    return get_alert(conn, principal, alert_id, lang)
