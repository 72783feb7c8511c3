"""Tax compliance (BPPRD only): taxpayers whose tapping box is offline too long or whose sales dropped.

Offline: a taxpayer is flagged when it has been offline for more than `offline_days`. It is offline
since the first observation of its current run of `offline` observations (the run begins right after
its latest other observation; the latest report itself when the history holds no run), or, when its
latest report says online but is older than the layer's `stale_after`, since that last report (the
box went silent). A taxpayer that never reported is offline since it was registered.

Low amount: a tapping box reports today's sales so far, a running total that rises through the day,
so readings are compared day by day, never the reading of the moment. Days are Ambon local days (WIT,
UTC+9, cut at 00:00 WIT). A taxpayer's daily amount for a day is the last value it reported that
day (the day's closing running total; reports without a value, such as offline ones, are skipped),
so a day without any value has no amount. The judged day is the latest local day before the local
day of `ctx.now` with an amount, provided it is one of the `window_days` days before today (a box
silent for longer is judged offline, not on amount). The taxpayer is flagged when that day's amount
is below `share` of the median (percentile_cont 0.5) of its daily amounts on the `window_days` days
before the judged day, and only when at least MIN_HISTORY_DAYS of those days have an amount (a new
or long-silent box has no median to fall below). Today, still running, is never judged.

The judged day, its amount, the median and the share are columns only for the roles that see the
taxpayers' status value (BPPRD analysts); other BPPRD staff see the flags without amounts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from geo.kinds import GeometryKind
from layers.access.policy import Action, allows, field_view, may_read
from layers.catalog import taxpayers
from layers.catalog.spec import Access, Style, Titles
from layers.queries.params import QueryParams, param
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec
from layers.tables import asset_status, assets, observations

LAYER = taxpayers.LAYER
OFFLINE = "offline"
DAY_S = 86_400.0
WIT = timedelta(hours=9)  # Ambon keeps UTC+9 all year, so a fixed offset cuts its days exactly
MIN_HISTORY_DAYS = 3


class TaxComplianceParams(QueryParams):
    """Parameters of the tax-compliance flags."""

    offline_days: float = param(3.0, "Luring lebih dari", "Offline for more than", unit="d", ge=0.5, le=90)
    share: float = param(
        0.5, "Batas bagian dari median harian", "Threshold share of own daily median", ge=0.01, le=1.0
    )
    window_days: int = param(30, "Jendela median", "Median window", unit="d", ge=7, le=90)


COLUMNS = (
    QueryColumn("name", "string", Titles("Nama", "Name")),
    QueryColumn("nop", "string", Titles("NOP", "Tax object number (NOP)")),
    QueryColumn("business_name", "string", Titles("Nama usaha", "Business name")),
    QueryColumn("category", "string", Titles("Kategori", "Category")),
    QueryColumn("reason", "string", Titles("Alasan", "Reason")),
    QueryColumn("offline_since", "datetime", Titles("Luring sejak", "Offline since")),
    QueryColumn("days_offline", "number", Titles("Lama luring", "Days offline"), "d"),
)
AMOUNT_COLUMNS = (
    QueryColumn("day", "string", Titles("Hari yang dinilai (WIT)", "Day judged (WIT)")),
    QueryColumn("day_amount", "number", Titles("Jumlah hari itu", "Amount that day"), "IDR"),
    QueryColumn(
        "median_daily_amount", "number", Titles("Median jumlah harian", "Median daily amount"), "IDR"
    ),
    QueryColumn("share_of_median", "number", Titles("Bagian dari median", "Share of median")),
)


def local_day(moment: datetime) -> date:
    """Return the Ambon (WIT) day of an aware moment."""
    return (moment.astimezone(UTC) + WIT).date()


def day_start(day: date) -> datetime:
    """Return the moment an Ambon (WIT) day begins."""
    return datetime.combine(day, time(), tzinfo=timezone(WIT))


def _readable(ctx: QueryContext) -> bool:
    """Whether the caller may read the taxpayers and run this query (else the statement yields nothing)."""
    return allows(ctx.principal, Action.READ, LAYER) and may_read(ctx.principal, QUERIES[0])


def _latest(ctx: QueryContext) -> Any:
    """Taxpayers with their latest status and last non-offline observation."""
    other = observations.alias("other")
    last_online = (
        select(func.max(other.c.observed_at))
        .where(
            other.c.asset_id == assets.c.id,
            other.c.status != OFFLINE,
            other.c.observed_at <= asset_status.c.observed_at,
        )
        .scalar_subquery()
    )
    props = assets.c.properties
    return (
        select(
            assets.c.id,
            assets.c.geom,
            assets.c.name,
            props["nop"].astext.label("nop"),
            props["business_name"].astext.label("business_name"),
            props["category"].astext.label("category"),
            assets.c.created_at,
            asset_status.c.status,
            asset_status.c.observed_at.label("latest_at"),
            last_online.label("last_online"),
        )
        .select_from(assets.outerjoin(asset_status, asset_status.c.asset_id == assets.c.id))
        .where(assets.c.layer_id == LAYER.id, literal(True) if _readable(ctx) else false())
        .cte("latest")
    )


def _closing_amounts(ctx: QueryContext, params: TaxComplianceParams) -> Any:
    """Each taxpayer's daily amounts (last value of each local day) on the days a judgement can use.

    One ordered pass over the observations of the 2 × window_days days before today: a valued
    report closes its day when the next valued report of the same box falls on another day.
    """
    today = local_day(ctx.now)
    day = cast(func.timezone("UTC", observations.c.observed_at + literal(WIT)), Date)
    next_day = func.lead(day).over(partition_by=observations.c.asset_id, order_by=observations.c.observed_at)
    valued = (
        select(
            observations.c.asset_id,
            day.label("day"),
            observations.c.value.label("amount"),
            next_day.label("next_day"),
        )
        .where(
            observations.c.asset_id.in_(select(assets.c.id).where(assets.c.layer_id == LAYER.id)),
            observations.c.observed_at >= day_start(today - timedelta(days=2 * params.window_days)),
            observations.c.observed_at < day_start(today),
            observations.c.value.is_not(None),
            literal(True) if _readable(ctx) else false(),
        )
        .subquery("valued")
    )
    return (
        select(valued.c.asset_id, valued.c.day, valued.c.amount)
        .where(or_(valued.c.next_day.is_(None), valued.c.next_day != valued.c.day))
        .subquery("closing")
    )


def _daily(ctx: QueryContext, params: TaxComplianceParams) -> Any:
    """Per taxpayer: the judged day, its amount, and the median of the daily amounts before it."""
    closing = _closing_amounts(ctx, params)
    judged_day = func.max(closing.c.day).over(partition_by=closing.c.asset_id)
    ranked = select(closing, judged_day.label("judged_day")).subquery("ranked")
    window = literal(params.window_days)
    in_history = and_(ranked.c.day >= ranked.c.judged_day - window, ranked.c.day < ranked.c.judged_day)
    history_days = func.count(case((in_history, 1)))
    median = func.percentile_cont(0.5).within_group(case((in_history, ranked.c.amount)))
    return (
        select(
            ranked.c.asset_id,
            func.max(ranked.c.judged_day).label("day"),
            func.max(case((ranked.c.day == ranked.c.judged_day, ranked.c.amount))).label("day_amount"),
            case((history_days >= MIN_HISTORY_DAYS, median)).label("median_daily_amount"),
        )
        .where(ranked.c.judged_day >= local_day(ctx.now) - timedelta(days=params.window_days))
        .group_by(ranked.c.asset_id)
        .subquery("daily")
    )


def _offline_since(t: Any, now: ColumnElement[Any]) -> ColumnElement[Any]:
    """When the box went offline (None when it is online and reporting)."""
    run = observations.alias("run")
    run_start = (
        select(func.min(run.c.observed_at))
        .where(
            run.c.asset_id == t.c.id,
            run.c.status == OFFLINE,
            run.c.observed_at <= t.c.latest_at,
            or_(t.c.last_online.is_(None), run.c.observed_at > t.c.last_online),
        )
        .scalar_subquery()
    )
    stale_after = LAYER.status.stale_after if LAYER.status else None
    return case(
        (t.c.status.is_(None), t.c.created_at),
        (t.c.status == OFFLINE, func.coalesce(run_start, t.c.latest_at)),
        (t.c.latest_at < now - literal(stale_after), t.c.latest_at),
        else_=None,
    )


def _flagged(ctx: QueryContext, params: TaxComplianceParams) -> Any:
    """Every taxpayer with its offline and low-amount flags."""
    t = _latest(ctx)
    d = _daily(ctx, params)
    now = literal(ctx.now, DateTime(timezone=True))
    since = _offline_since(t, now)
    days = func.extract("epoch", now - since) / DAY_S
    low = and_(
        d.c.median_daily_amount > 0,
        d.c.day_amount < literal(params.share, Float) * d.c.median_daily_amount,
    )
    offline = and_(since.is_not(None), days > literal(params.offline_days, Float))
    return (
        select(
            t,
            func.to_char(d.c.day, "YYYY-MM-DD").label("day"),
            d.c.day_amount,
            d.c.median_daily_amount,
            (d.c.day_amount / func.nullif(d.c.median_daily_amount, 0.0, type_=Float)).label(
                "share_of_median"
            ),
            since.label("offline_since"),
            days.label("days_offline"),
            func.coalesce(offline, False).label("is_offline"),
            func.coalesce(low, False).label("is_low"),
        )
        .select_from(t.outerjoin(d, d.c.asset_id == t.c.id))
        .subquery("flagged")
    )


def build(ctx: QueryContext, params: TaxComplianceParams) -> QueryAnswer:
    """Return the taxpayers flagged as offline too long or with a low daily amount."""
    f = _flagged(ctx, params)
    reason = case((and_(f.c.is_offline, f.c.is_low), "both"), (f.c.is_offline, "offline"), else_="low_amount")
    cols: list[ColumnElement[Any]] = [
        f.c.id,
        f.c.geom,
        f.c.name,
        f.c.nop,
        f.c.business_name,
        f.c.category,
        reason.label("reason"),
        f.c.offline_since,
        f.c.days_offline,
    ]
    columns: tuple[QueryColumn, ...] = COLUMNS
    if field_view(ctx.principal, LAYER).status_value:
        cols += [f.c.day, f.c.day_amount, f.c.median_daily_amount, f.c.share_of_median]
        columns += AMOUNT_COLUMNS
    stmt: Select[Any] = select(*cols).where(or_(f.c.is_offline, f.c.is_low))
    return QueryAnswer(statement=stmt, columns=columns)


QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec(
        id="tax_compliance",
        title=Titles("Kepatuhan pajak", "Tax compliance"),
        description=Titles(
            "Wajib pajak yang tapping box-nya luring lebih dari N hari atau yang jumlah transaksi "
            "harian terakhirnya (hari lengkap terakhir, WIT) di bawah bagian tertentu dari median "
            "hariannya sendiri; RAHASIA, hanya untuk BPPRD.",
            "Taxpayers whose tapping box has been offline for more than N days or whose last "
            "complete day's amount (WIT) fell below a share of their own daily median; "
            "CONFIDENTIAL, BPPRD only.",
        ),
        owner="bpprd",
        geometry=GeometryKind.POINT,
        params=TaxComplianceParams,
        build=build,
        style=Style(
            color="#6a1b9a",
            by_status={"offline": "#c62828", "low_amount": "#ef6c00", "both": "#4a148c"},
            radius=4,
        ),
        access=Access.RESTRICTED,
        readers=frozenset({"bpprd-*"}),
        style_attribute="reason",
        labels={
            "offline": Titles("Luring terlalu lama", "Offline too long"),
            "low_amount": Titles("Transaksi rendah", "Low amount"),
            "both": Titles("Luring dan transaksi rendah", "Offline and low amount"),
        },
        time_limit_s=30.0,
    ),
)
