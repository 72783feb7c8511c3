"""Alert evaluation: which (rule, asset) pairs hold now; open new alerts and resolve cleared ones.

Each rule is one set-based statement: a `hold` CTE finds the assets (and areas) for which the condition
holds at `now`, then data-modifying CTEs open the missing alerts, touch the open ones and resolve the rest.
"How long" a status has held is read from the observations: the run of matching reports since the last
report outside the rule's statuses. Silence counts from the moment the asset turned stale.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Connection,
    DateTime,
    Engine,
    FromClause,
    Interval,
    Select,
    Text,
    and_,
    any_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement

from layers.access.policy import Principal
from layers.alerts.announce import RETURNED, AlertChange, announce, change_from, resolve_open
from layers.alerts.area_rules import active_rules
from layers.alerts.rules import (
    PLACE_LAYERS,
    RESPONSE_AREAS,
    RULES,
    STALE,
    STALE_LABEL,
    AlertRule,
    Scope,
    ScopeKind,
)
from layers.alerts.tables import alerts
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec
from layers.live.status import ReportResult, StatusReport, write_reports
from layers.tables import areas, asset_status, assets, observations

# One evaluator at a time across workers; the others skip (the next periodic run catches up).
LOCK_KEY = 0x6B656E64616C6931
# Touching last_seen_at on every run would rewrite every open alert every few seconds.
SEEN_EVERY = timedelta(minutes=1)
_TS = DateTime(timezone=True)


@dataclass(frozen=True, slots=True)
class Summary:
    """What one evaluation did."""

    rules: int = 0
    opened: int = 0
    resolved: int = 0
    skipped: bool = False  # another evaluator held the lock


def _run_start(a: FromClause, s: FromClause, statuses: Collection[str]) -> ColumnElement[Any]:
    """Return the first observation of the current unbroken run of reports in `statuses`."""
    o, prev = observations.alias("o"), observations.alias("prev")
    last_other = (
        select(func.max(prev.c.observed_at))
        .where(
            prev.c.asset_id == a.c.id,
            prev.c.observed_at <= s.c.observed_at,
            prev.c.status.not_in(sorted(statuses)),
        )
        .correlate(a, s)
        .scalar_subquery()
    )
    floor = func.coalesce(last_other, cast(literal("-infinity"), _TS))
    return (
        select(func.min(o.c.observed_at))
        .where(o.c.asset_id == a.c.id, o.c.observed_at <= s.c.observed_at, o.c.observed_at > floor)
        .correlate(a, s)
        .scalar_subquery()
    )


def _live_area(ar: FromClause, now: ColumnElement[Any]) -> ColumnElement[bool]:
    """Return SQL that is true for an area that is not deleted, active and inside its validity period."""
    props = ar.c.properties
    start, end = props["valid_from"].astext, props["valid_to"].astext
    return and_(
        ar.c.deleted_at.is_(None),
        func.coalesce(props["state"].astext, "active") == "active",
        or_(start.is_(None), cast(start, _TS) <= now),
        or_(end.is_(None), cast(end, _TS) > now),
    )


def _scoped(
    a: FromClause, scope: Scope, now: ColumnElement[Any]
) -> tuple[FromClause, ColumnElement[Any], ColumnElement[Any]]:
    """Return the assets joined to the scope's places, the area id column and the place name column."""
    if scope.kind is ScopeKind.ALL:
        return a, cast(null(), BigInteger), cast(null(), Text)
    if scope.by_area:
        ar = areas.alias("ar")
        which = (
            ar.c.layer_id == RESPONSE_AREAS
            if scope.kind is ScopeKind.ACTIVE_RESPONSE_AREAS
            else ar.c.id == scope.area_id
        )
        on = and_(which, _live_area(ar, now), func.ST_Intersects(ar.c.geom, a.c.geom))
        return a.join(ar, on), ar.c.id, ar.c.name
    p = assets.alias("p")
    on = and_(
        p.c.layer_id == PLACE_LAYERS[scope.kind],
        p.c.properties["code"].astext == scope.code,
        func.ST_Covers(p.c.geom, a.c.geom),
    )
    return a.join(p, on), cast(null(), BigInteger), p.c.name


def _message(rule: AlertRule, layer: LayerSpec, c: Any) -> ColumnElement[Any]:
    """Return the bilingual message: "<rule title>: <asset> (<status>) in <place>"."""
    assert layer.status is not None  # noqa: S101 - rules are checked against their layer
    texts = []
    for lang, word in (("id", " di "), ("en", " in ")):
        labels = {k: v.pick(lang) for k, v in layer.status.labels.items()}
        label = case(labels, value=c.c.status, else_=literal(STALE_LABEL.pick(lang)))
        where = func.coalesce(literal(word) + c.c.place, literal(""))
        texts.append(
            literal(rule.title.pick(lang) + ": ") + c.c.name + literal(" (") + label + literal(")") + where
        )
    return func.jsonb_build_object(literal("id"), texts[0], literal("en"), texts[1])


def _holding(rule: AlertRule, now: ColumnElement[Any], asset_ids: Sequence[int] | None) -> Select[Any]:
    """Return (asset_id, area_id, since, status, message) for every asset for which `rule` holds."""
    layer = LAYERS[rule.layer_id]
    assert layer.status is not None  # noqa: S101 - rules are checked against their layer
    cond = rule.condition
    a, s = assets.alias("a"), asset_status.alias("s")
    matches = s.c.status.in_(sorted(cond.statuses)) if cond.statuses else false()
    since: ColumnElement[Any] = case(
        (matches, func.coalesce(_run_start(a, s, cond.statuses), s.c.observed_at))
    )
    if cond.include_stale:
        stale_after = literal(layer.status.stale_after, Interval)
        silent = s.c.observed_at.is_(None) | (s.c.observed_at < now - stale_after)
        since = func.least(
            since, case((silent, func.coalesce(s.c.observed_at, a.c.created_at) + stale_after))
        )
    source, area_id, place = _scoped(a, rule.scope, now)
    inner = (
        select(
            a.c.id.label("asset_id"),
            area_id.label("area_id"),
            since.label("since"),
            case((matches, s.c.status), else_=literal(STALE)).label("status"),
            a.c.name.label("name"),
            place.label("place"),
        )
        .select_from(source.outerjoin(s, s.c.asset_id == a.c.id))
        .where(a.c.layer_id == layer.id)
    )
    if not cond.include_stale:
        inner = inner.where(matches)
    if asset_ids is not None:
        inner = inner.where(a.c.id == any_(literal(list(asset_ids), ARRAY(BigInteger))))
    c = inner.subquery("candidates")
    held = select(c.c.asset_id, c.c.area_id, c.c.since, c.c.status, _message(rule, layer, c).label("message"))
    held = held.where(c.c.since.is_not(None))
    if cond.min_duration > timedelta(0):
        held = held.where(c.c.since <= now - literal(cond.min_duration, Interval))
    return held


def _rule_statement(rule: AlertRule, now: datetime, asset_ids: Sequence[int] | None) -> CompoundSelect[Any]:
    """Return one statement that opens, touches and resolves the alerts of `rule`; rows are the changes."""
    now_ = literal(now, _TS)
    hold = _holding(rule, now_, asset_ids).cte("hold")
    same_pair = and_(
        alerts.c.asset_id == hold.c.asset_id, alerts.c.area_id.is_not_distinct_from(hold.c.area_id)
    )
    mine = [alerts.c.rule_id == rule.id, alerts.c.resolved_at.is_(None)]
    cols = ["rule_id", "asset_id", "layer_id", "area_id", "severity", "status", "since", "opened_at"]
    fixed = (literal(rule.id), literal(rule.layer_id), literal(rule.severity.value))
    rows = select(fixed[0], hold.c.asset_id, fixed[1], hold.c.area_id, fixed[2], hold.c.status, hold.c.since)
    rows = rows.add_columns(now_, now_, hold.c.message)
    opened = (
        pg_insert(alerts)
        .from_select([*cols, "last_seen_at", "message"], rows)
        .on_conflict_do_nothing(
            index_elements=[alerts.c.rule_id, alerts.c.asset_id, alerts.c.area_id],
            index_where=alerts.c.resolved_at.is_(None),
        )
        .returning(*RETURNED)
        .cte("opened")
    )
    seen = (
        update(alerts)
        .where(*mine, same_pair, alerts.c.last_seen_at < now_ - literal(SEEN_EVERY, Interval))
        .values(last_seen_at=now_)
        .returning(alerts.c.id)
        .cte("seen")
    )
    gone = [*mine, ~select(hold.c.asset_id).where(same_pair).exists()]
    if asset_ids is not None:
        gone.append(alerts.c.asset_id == any_(literal(list(asset_ids), ARRAY(BigInteger))))
    resolved = update(alerts).where(*gone).values(resolved_at=now_).returning(*RETURNED).cte("resolved")
    return (
        select(*opened.c, literal("opened").label("state"))
        .union_all(select(*resolved.c, literal("resolved").label("state")))
        .add_cte(seen)
    )


def _evaluate_rule(
    conn: Connection, rule: AlertRule, now: datetime, asset_ids: Sequence[int] | None
) -> list[AlertChange]:
    rows = conn.execute(_rule_statement(rule, now, asset_ids)).all()
    return [change_from(row, row.state) for row in sorted(rows, key=lambda r: (r.state != "resolved", r.id))]


def rules_for(conn: Connection, layer_ids: Collection[str] | None = None) -> list[AlertRule]:
    """Return the declared and the active user-defined rules, optionally of some layers only."""
    declared = [r for r in RULES.values() if layer_ids is None or r.layer_id in layer_ids]
    return [*declared, *active_rules(conn, layer_ids)]


def evaluate(
    conn: Connection,
    now: datetime,
    layer_ids: Collection[str] | None = None,
    asset_ids: Sequence[int] | None = None,
    *,
    wait: bool = False,
) -> Summary:
    """Open alerts whose condition holds at `now`, resolve those whose condition cleared, announce both.

    Runs in the caller's transaction. `layer_ids`/`asset_ids` narrow the work (after a status write);
    alerts of rules that no longer exist are resolved only by a full evaluation. While another
    evaluation runs it is skipped, unless `wait` is set; the lock is held until the caller's commit.
    """
    if wait:
        conn.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    elif not conn.execute(select(func.pg_try_advisory_xact_lock(LOCK_KEY))).scalar_one():
        return Summary(skipped=True)
    rules = rules_for(conn, layer_ids)
    changes: list[AlertChange] = []
    for rule in rules:
        changes.extend(_evaluate_rule(conn, rule, now, asset_ids))
    announce(conn, changes)
    if layer_ids is None and asset_ids is None:
        changes.extend(resolve_open(conn, [alerts.c.rule_id.not_in([r.id for r in rules])], now))
    opened = sum(1 for c in changes if c.state == "opened")
    return Summary(rules=len(rules), opened=opened, resolved=len(changes) - opened)


def evaluate_after_write(conn: Connection, results: Iterable[ReportResult], *, wait: bool = False) -> Summary:
    """Evaluate the rules of the assets whose latest status a write just changed (same transaction)."""
    ids = sorted({r.asset_id for r in results if r.latest and r.asset_id is not None})
    if not ids:
        return Summary()
    layer_ids = set(
        conn.execute(
            select(assets.c.layer_id).where(assets.c.id == any_(literal(ids, ARRAY(BigInteger)))).distinct()
        ).scalars()
    )
    return evaluate(conn, datetime.now(UTC), layer_ids=layer_ids, asset_ids=ids, wait=wait)


def write_and_evaluate(
    conn: Connection, principal: Principal, reports: Sequence[StatusReport]
) -> list[ReportResult]:
    """Store a batch through the one write path and evaluate the touched assets' rules, one transaction."""
    results = write_reports(conn, principal, reports)
    evaluate_after_write(conn, results)
    return results


def run_evaluation(engine: Engine, now: datetime | None = None) -> Summary:
    """Evaluate every rule in a transaction of its own and commit (for the periodic background task)."""
    with engine.begin() as conn:
        return evaluate(conn, now or datetime.now(UTC))
