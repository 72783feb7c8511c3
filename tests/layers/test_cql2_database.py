"""CQL2 filters on the demo dumping points: PostGIS selects the same ids as shapely and Python do."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import shapely
from sqlalchemy import Connection, Float, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from geo.crs import metric_transformers
from layers.features.cql2 import Queryable, filter_expression
from layers.tables import asset_status, assets

QUERYABLES = {
    "name": Queryable(assets.c.name, "string"),
    "tps_type": Queryable(assets.c.properties["tps_type"].astext, "string"),
    "capacity_m3": Queryable(assets.c.properties["capacity_m3"].astext.cast(Float), "number"),
    "status": Queryable(asset_status.c.status, "string"),
    "status_value": Queryable(asset_status.c.value, "number"),
    "observed_at": Queryable(asset_status.c.observed_at, "datetime"),
    "geometry": Queryable(assets.c.geom, "geometry"),
}
CENTRE = (128.18, -3.70)
RADIUS_M = 500.0
TO_UTM, FROM_UTM = metric_transformers()  # EPSG:32752, WGS 84 / UTM 52S


@dataclass(frozen=True)
class Row:
    """A demo dumping point with its live status, as fetched without a filter."""

    id: int
    name: str
    tps_type: str
    capacity_m3: float
    status: str | None
    status_value: float | None
    observed_at: datetime | None
    point: shapely.Point


@dataclass(frozen=True)
class Case:
    """One filter in both languages, the Python predicate it must agree with, and its CRS."""

    text: str
    document: Any
    predicate: Callable[[Row], bool | None]  # None: too close to call, left out of the comparison
    filter_srid: int = 4326


def op(name: str, *args: Any) -> dict[str, Any]:
    """Return a cql2-json operation."""
    return {"op": name, "args": list(args)}


def prop(name: str) -> dict[str, str]:
    """Return a cql2-json property reference."""
    return {"property": name}


def _joined() -> Any:
    return assets.outerjoin(asset_status, asset_status.c.asset_id == assets.c.id)


def spread_observation_times(conn: Connection) -> None:
    """Spread the demo's one status time over ten hours, inside the test's rolled-back transaction."""
    ids = select(assets.c.id).where(assets.c.layer_id == "dumping_points").scalar_subquery()
    hours_back = (asset_status.c.asset_id % 10) * timedelta(hours=1)
    conn.execute(
        update(asset_status)
        .where(asset_status.c.asset_id.in_(ids))
        .values(observed_at=asset_status.c.observed_at - hours_back)
    )


def fetch_rows(conn: Connection) -> list[Row]:
    """Return every demo dumping point, unfiltered."""
    stmt = select(
        assets.c.id,
        assets.c.name,
        assets.c.properties["tps_type"].astext,
        assets.c.properties["capacity_m3"].astext.cast(Float),
        asset_status.c.status,
        asset_status.c.value,
        asset_status.c.observed_at,
        func.ST_X(assets.c.geom),
        func.ST_Y(assets.c.geom),
    ).select_from(_joined())
    result = conn.execute(stmt.where(assets.c.layer_id == "dumping_points"))
    return [Row(*row[:7], shapely.Point(row[7], row[8])) for row in result]


def filtered_ids(conn: Connection, condition: ColumnElement[bool]) -> set[int]:
    """Return the ids of the demo dumping points that PostGIS selects with the condition."""
    stmt = select(assets.c.id).select_from(_joined()).where(assets.c.layer_id == "dumping_points", condition)
    return set(conn.execute(stmt).scalars())


def _square(half_deg: float) -> shapely.Polygon:
    x, y = CENTRE
    return shapely.box(x - half_deg, y - half_deg, x + half_deg, y + half_deg)


def _intersects_square(rows: list[Row]) -> Case:
    square = _square(0.02)
    return Case(
        f"S_INTERSECTS(geometry, {square.wkt})",
        op("s_intersects", prop("geometry"), shapely.geometry.mapping(square)),
        lambda r: square.intersects(r.point),
    )


def _intersects_utm_square(rows: list[Row]) -> Case:
    square_utm = shapely.transform(_square(0.03), TO_UTM.transform, interleaved=False)
    square = shapely.transform(square_utm, FROM_UTM.transform, interleaved=False)
    return Case(
        f"S_INTERSECTS(geometry, {square_utm.wkt})",
        op("s_intersects", prop("geometry"), shapely.geometry.mapping(square_utm)),
        lambda r: square.intersects(r.point),
        filter_srid=32752,
    )


def _within_bbox(rows: list[Row]) -> Case:
    box = [128.15, -3.72, 128.21, -3.68]
    return Case(
        f"BBOX(geometry, {', '.join(map(str, box))})",
        op("s_within", prop("geometry"), {"bbox": box}),
        lambda r: shapely.box(*box).contains(r.point),
    )


def _utm_distance_m(point: shapely.Point) -> float:
    (x0, x1), (y0, y1) = TO_UTM.transform([CENTRE[0], point.x], [CENTRE[1], point.y])
    return math.hypot(x1 - x0, y1 - y0)


def _dwithin(rows: list[Row]) -> Case:
    def near(r: Row) -> bool | None:
        distance = _utm_distance_m(r.point)  # UTM and the spheroid differ by < 0.1 %
        return None if abs(distance - RADIUS_M) < 2 else distance <= RADIUS_M

    return Case(
        f"S_DWITHIN(geometry, POINT({CENTRE[0]} {CENTRE[1]}), {RADIUS_M})",
        op("s_dwithin", prop("geometry"), {"type": "Point", "coordinates": list(CENTRE)}, RADIUS_M),
        near,
    )


def _capacity_between(rows: list[Row]) -> Case:
    return Case(
        "capacity_m3 BETWEEN 5 AND 20",
        op("between", prop("capacity_m3"), 5, 20),
        lambda r: 5 <= r.capacity_m3 <= 20,
    )


def _type_in(rows: list[Row]) -> Case:
    return Case(
        "tps_type IN ('kontainer', 'depo')",
        op("in", prop("tps_type"), ["kontainer", "depo"]),
        lambda r: r.tps_type in ("kontainer", "depo"),
    )


def _name_like(rows: list[Row]) -> Case:
    return Case("name LIKE 'TPS%'", op("like", prop("name"), "TPS%"), lambda r: r.name.startswith("TPS"))


def _full_or_overflow(rows: list[Row]) -> Case:
    return Case(
        "status = 'full' OR status = 'overflow'",
        op("or", op("=", prop("status"), "full"), op("=", prop("status"), "overflow")),
        lambda r: r.status in ("full", "overflow"),
    )


def _not_tps_and_filling(rows: list[Row]) -> Case:
    return Case(
        "NOT (tps_type = 'tps') AND status_value > 40",
        op("and", op("not", op("=", prop("tps_type"), "tps")), op(">", prop("status_value"), 40)),
        lambda r: r.tps_type != "tps" and r.status_value is not None and r.status_value > 40,
    )


def _quantile(rows: list[Row], q: float) -> tuple[datetime, str]:
    times = sorted(r.observed_at for r in rows if r.observed_at is not None)
    moment = times[int(q * (len(times) - 1))]
    return moment, moment.isoformat().replace("+00:00", "Z")


def _observed_after(rows: list[Row]) -> Case:
    median, stamp = _quantile(rows, 0.5)
    return Case(
        f"T_AFTER(observed_at, TIMESTAMP('{stamp}'))",
        op("t_after", prop("observed_at"), {"timestamp": stamp}),
        lambda r: r.observed_at is not None and r.observed_at > median,
    )


def _observed_during(rows: list[Row]) -> Case:
    (start, start_stamp), (end, end_stamp) = _quantile(rows, 0.2), _quantile(rows, 0.8)
    return Case(
        f"T_DURING(observed_at, INTERVAL('{start_stamp}', '{end_stamp}'))",
        op("t_during", prop("observed_at"), {"interval": [start_stamp, end_stamp]}),
        lambda r: r.observed_at is not None and start < r.observed_at < end,
    )


def _observed_since(rows: list[Row]) -> Case:
    start, stamp = _quantile(rows, 0.3)
    return Case(
        f"T_INTERSECTS(observed_at, INTERVAL('{stamp}', '..'))",
        op("t_intersects", prop("observed_at"), {"interval": [stamp, ".."]}),
        lambda r: r.observed_at is not None and r.observed_at >= start,
    )


CASES = [
    _intersects_square,
    _intersects_utm_square,
    _within_bbox,
    _dwithin,
    _capacity_between,
    _type_in,
    _name_like,
    _full_or_overflow,
    _not_tps_and_filling,
    _observed_after,
    _observed_during,
    _observed_since,
]


@pytest.mark.parametrize("lang", ["cql2-text", "cql2-json"])
@pytest.mark.parametrize("build", CASES, ids=[c.__name__.strip("_") for c in CASES])
def test_postgis_selects_the_ids_python_computes(
    conn: Connection, lang: str, build: Callable[[list[Row]], Case]
) -> None:
    spread_observation_times(conn)
    rows = fetch_rows(conn)
    case = build(rows)
    verdicts = {r.id: case.predicate(r) for r in rows}
    expected = {i for i, v in verdicts.items() if v}
    unsure = {i for i, v in verdicts.items() if v is None}
    assert 0 < len(expected) < len(rows), "the case must select a proper, non-empty subset"
    text = case.text if lang == "cql2-text" else json.dumps(case.document)
    condition = filter_expression(text, lang, QUERYABLES, filter_srid=case.filter_srid)
    assert filtered_ids(conn, condition) - unsure == expected


def _lat_lon_square() -> tuple[str, Any]:
    square = shapely.transform(_square(0.02), lambda xy: xy[:, ::-1])  # lat/lon, as EPSG:4326 orders axes
    document = op("s_intersects", prop("geometry"), shapely.geometry.mapping(square))
    return f"S_INTERSECTS(geometry, {square.wkt})", document


def _lat_lon_bbox() -> tuple[str, Any]:
    box = [-3.72, 128.15, -3.68, 128.21]
    return f"BBOX(geometry, {', '.join(map(str, box))})", op("s_within", prop("geometry"), {"bbox": box})


LAT_LON = [(_intersects_square, _lat_lon_square), (_within_bbox, _lat_lon_bbox)]


@pytest.mark.parametrize("srid", [4326, 4755])
@pytest.mark.parametrize("lang", ["cql2-text", "cql2-json"])
@pytest.mark.parametrize(("lon_lat", "lat_lon"), LAT_LON, ids=["polygon", "bbox"])
def test_lat_lon_literal_with_swap_axes_selects_the_lon_lat_rows(
    conn: Connection,
    srid: int,
    lang: str,
    lon_lat: Callable[[list[Row]], Case],
    lat_lon: Callable[[], tuple[str, Any]],
) -> None:
    rows = fetch_rows(conn)
    case, (text, document) = lon_lat(rows), lat_lon()
    as_lang = {"cql2-text": (case.text, text), "cql2-json": (json.dumps(case.document), json.dumps(document))}
    plain, swapped = as_lang[lang]
    expected = filtered_ids(conn, filter_expression(plain, lang, QUERYABLES, filter_srid=srid))
    assert 0 < len(expected) < len(rows), "the case must select a proper, non-empty subset"
    condition = filter_expression(swapped, lang, QUERYABLES, filter_srid=srid, swap_axes=True)
    assert filtered_ids(conn, condition) == expected
