"""Uncollected-waste clusters (DLHP): full or overflowing dumping points grouped for truck routes.

A dumping point is a candidate when its latest status is one of `statuses` (default full, overflow)
and it has been uncollected for more than `hours`.

"Uncollected since" is the first observation of the current unbroken run of observations whose
status is in `statuses`: the run begins right after the latest observation with another status (the
last collection), or, when the stored history holds no such observation, at the first observation
of the history. A point without any stored observation counts from its latest status report.

Candidates are clustered with ST_ClusterDBSCAN over their EPSG:32752 coordinates (`eps_m`,
`min_points`); noise points (no cluster) are left out, which never happens with `min_points` = 1.
Each cluster is the convex hull of its members buffered by `buffer_m` (at least 1 m when the hull
is a point or a line, so that every answer is a polygon).

Priority of a cluster = Σ over members of capacity_m3 × (1 + hours_uncollected / 24), × 1.5 for an
overflowing member: big, old, overflowing heaps first. Class: high ≥ 50, medium ≥ 20, else low.
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator
from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    Text,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from geo.crs import AMBON_UTM_SRID, STORAGE_SRID
from geo.kinds import GeometryKind
from layers.access.policy import Action, allows
from layers.catalog import districts, dumping_points
from layers.catalog.spec import Style, Titles
from layers.queries.params import Names, ParamError, QueryParams, param
from layers.queries.spec import QueryAnswer, QueryColumn, QueryContext, QuerySpec
from layers.tables import asset_status, assets, observations

LAYER = dumping_points.LAYER
FILL_STATUSES: tuple[str, ...] = LAYER.status.values if LAYER.status else ()
HIGH_PRIORITY = 50.0
MEDIUM_PRIORITY = 20.0
OVERFLOW_WEIGHT = 1.5
MIN_HULL_BUFFER_M = 1.0


class WasteClusterParams(QueryParams):
    """Parameters of the uncollected-waste clusters."""

    statuses: Names = param(("full", "overflow"), "Status TPS", "Dumping point statuses")
    hours: float = param(
        24.0, "Belum diangkut lebih dari", "Uncollected for more than", unit="h", ge=0, le=720
    )
    eps_m: float = param(250.0, "Jarak klaster", "Cluster distance", unit="m", ge=10, le=2000)
    min_points: int = param(2, "Titik minimum per klaster", "Minimum points per cluster", ge=1, le=50)
    buffer_m: float = param(30.0, "Penyangga poligon", "Polygon buffer", unit="m", ge=0, le=500)

    @field_validator("statuses")
    @classmethod
    def _known_statuses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in FILL_STATUSES]
        if unknown:
            listed = ", ".join(FILL_STATUSES)
            raise ParamError(
                f"unknown status {unknown[0][:32]!r}; use {listed}",
                f"status {unknown[0][:32]!r} tidak dikenal; gunakan {listed}",
            )
        return value


COLUMNS = (
    QueryColumn("point_count", "integer", Titles("Jumlah TPS", "Dumping points")),
    QueryColumn("total_capacity_m3", "number", Titles("Kapasitas total", "Total capacity"), "m3"),
    QueryColumn("overflow_count", "integer", Titles("TPS meluap", "Overflowing points")),
    QueryColumn("oldest_report", "datetime", Titles("Belum diangkut sejak", "Uncollected since")),
    QueryColumn("hours_uncollected", "number", Titles("Lama belum diangkut", "Hours uncollected"), "h"),
    QueryColumn("priority", "number", Titles("Skor prioritas", "Priority score")),
    QueryColumn("priority_class", "string", Titles("Prioritas", "Priority")),
    QueryColumn("member_ids", "string", Titles("ID TPS", "Dumping point ids")),
    QueryColumn("district", "string", Titles("Kecamatan", "District")),
)


def _candidates(ctx: QueryContext, params: WasteClusterParams) -> Any:
    """Dumping points whose latest status is selected, with the time of their last other status."""
    other = observations.alias("other")
    last_break = (
        select(func.max(other.c.observed_at))
        .where(
            other.c.asset_id == assets.c.id,
            other.c.status.not_in(params.statuses),
            other.c.observed_at <= asset_status.c.observed_at,
        )
        .scalar_subquery()
    )
    readable: ColumnElement[bool] = literal(True) if allows(ctx.principal, Action.READ, LAYER) else false()
    return (
        select(
            assets.c.id,
            assets.c.geom,
            assets.c.properties["capacity_m3"].astext.cast(Float).label("capacity_m3"),
            asset_status.c.status,
            asset_status.c.observed_at.label("latest_at"),
            last_break.label("last_break"),
        )
        .join(asset_status, asset_status.c.asset_id == assets.c.id)
        .where(assets.c.layer_id == LAYER.id, asset_status.c.status.in_(params.statuses), readable)
        .cte("candidates")
    )


def _uncollected(ctx: QueryContext, params: WasteClusterParams) -> Any:
    """Candidates with the start of their current run and the hours since, older than `hours` only."""
    cand = _candidates(ctx, params)
    run = observations.alias("run")
    run_start = (
        select(func.min(run.c.observed_at))
        .where(
            run.c.asset_id == cand.c.id,
            run.c.status.in_(params.statuses),
            run.c.observed_at <= cand.c.latest_at,
            or_(cand.c.last_break.is_(None), run.c.observed_at > cand.c.last_break),
        )
        .scalar_subquery()
    )
    since = func.coalesce(run_start, cand.c.latest_at)
    now = literal(ctx.now, DateTime(timezone=True))
    hours = func.extract("epoch", now - since) / 3600.0
    inner = select(
        cand.c.id, cand.c.geom, cand.c.capacity_m3, cand.c.status, since.label("since"), hours.label("hours")
    ).subquery("aged")
    return select(inner).where(inner.c.hours > literal(params.hours, Float)).cte("uncollected")


def _members(ctx: QueryContext, params: WasteClusterParams) -> Any:
    """Uncollected points with their DBSCAN cluster number (NULL for noise)."""
    pts = _uncollected(ctx, params)
    geom_utm = func.ST_Transform(pts.c.geom, AMBON_UTM_SRID)
    cluster = func.ST_ClusterDBSCAN(
        geom_utm, literal(params.eps_m, Float), literal(params.min_points, Integer)
    ).over(order_by=pts.c.id)
    return select(pts, geom_utm.label("geom_utm"), cluster.label("cluster")).cte("members")


def _clusters(ctx: QueryContext, params: WasteClusterParams) -> Any:
    """One row per cluster with its polygon and aggregates."""
    m = _members(ctx, params)
    hull = func.ST_ConvexHull(func.ST_Collect(m.c.geom_utm))
    buffer_m = literal(params.buffer_m, Float)
    radius = case((func.ST_Dimension(hull) == 2, buffer_m), else_=func.greatest(buffer_m, MIN_HULL_BUFFER_M))
    overflow = m.c.status == "overflow"
    weight = m.c.capacity_m3 * (1.0 + m.c.hours / 24.0) * case((overflow, OVERFLOW_WEIGHT), else_=1.0)
    return (
        select(
            func.min(m.c.id).label("id"),
            func.ST_Transform(func.ST_Buffer(hull, radius), STORAGE_SRID).label("geom"),
            func.ST_Centroid(func.ST_Collect(m.c.geom)).label("centre"),
            func.count().label("point_count"),
            func.sum(m.c.capacity_m3).label("total_capacity_m3"),
            func.count().filter(overflow).label("overflow_count"),
            func.min(m.c.since).label("oldest_report"),
            func.max(m.c.hours).label("hours_uncollected"),
            cast(func.round(cast(func.sum(weight), Numeric), 1), Float).label("priority"),
            func.string_agg(cast(m.c.id, Text), aggregate_order_by(literal(","), m.c.id)).label("member_ids"),
        )
        .where(m.c.cluster.is_not(None))
        .group_by(m.c.cluster)
        .subquery("clusters")
    )


def _district_name(ctx: QueryContext, point: Any) -> ColumnElement[Any]:
    """The name of the district holding `point` (the cluster's centre), if the caller sees districts."""
    if not allows(ctx.principal, Action.READ, districts.LAYER):
        return literal(None, Text)
    d = assets.alias("district")
    return (
        select(d.c.name)
        .where(d.c.layer_id == districts.LAYER.id, func.ST_Intersects(d.c.geom, point))
        .order_by(d.c.id)
        .limit(1)
        .scalar_subquery()
    )


def build(ctx: QueryContext, params: WasteClusterParams) -> QueryAnswer:
    """Return the clusters of uncollected dumping points."""
    c = _clusters(ctx, params)
    priority_class = case(
        (c.c.priority >= HIGH_PRIORITY, "high"), (c.c.priority >= MEDIUM_PRIORITY, "medium"), else_="low"
    )
    stmt: Select[Any] = select(
        c.c.id,
        c.c.geom,
        c.c.point_count,
        c.c.total_capacity_m3,
        c.c.overflow_count,
        c.c.oldest_report,
        c.c.hours_uncollected,
        c.c.priority,
        priority_class.label("priority_class"),
        c.c.member_ids,
        _district_name(ctx, c.c.centre).label("district"),
    )
    return QueryAnswer(statement=stmt, columns=COLUMNS)


QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec(
        id="waste_clusters",
        title=Titles("Klaster sampah belum diangkut", "Uncollected-waste clusters"),
        description=Titles(
            "TPS penuh atau meluap yang belum diangkut lebih dari N jam, dikelompokkan (DBSCAN, meter) "
            "menjadi poligon dengan jumlah, kapasitas, laporan tertua dan prioritas untuk rute truk.",
            "Full or overflowing dumping points uncollected for more than N hours, clustered (DBSCAN, "
            "metres) into polygons with count, capacity, oldest report and priority for truck routes.",
        ),
        owner="dlhp",
        geometry=GeometryKind.POLYGON,
        params=WasteClusterParams,
        build=build,
        style=Style(
            color="#ef6c00",
            by_status={"high": "#b71c1c", "medium": "#ef6c00", "low": "#f9a825"},
            fill_opacity=0.35,
        ),
        style_attribute="priority_class",
        labels={
            "high": Titles("Tinggi", "High"),
            "medium": Titles("Sedang", "Medium"),
            "low": Titles("Rendah", "Low"),
        },
        time_limit_s=15.0,
    ),
)
