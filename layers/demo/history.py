"""Plausible status series of the demo assets: outages, filling bins, rising rivers, rush hours, sales.

Every model is a closed form of time plus seeded random events (outages, storms, missed collections),
so the cost follows the rows returned and the events, not the number of report intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from layers.demo.rows import AssetRow
from layers.demo.sampling import FloatArray, rng_for

DAY_S = 86_400.0
HOUR_S = 3_600.0
WIT_OFFSET_S = 9 * HOUR_S  # Ambon keeps UTC+9 all year (no daylight saving), so a fixed offset is exact


@dataclass(frozen=True, slots=True)
class Series:
    """A model's output at the sample times: status, value (NaN for none) and details per row."""

    statuses: list[str]
    values: FloatArray
    details: list[dict[str, Any]]


Model = Callable[[np.random.Generator, FloatArray, AssetRow, int], Series]


def sample_offsets(span: timedelta, every: timedelta, max_rows: int) -> list[int]:
    """Return the report indices in [0, span] at `every`, thinned evenly to at most `max_rows`, last kept."""
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    n = span // every + 1
    if n <= max_rows:
        return list(range(n))
    if max_rows == 1:
        return [n - 1]
    return [int(k) for k in np.unique(np.round(np.linspace(0, n - 1, max_rows)).astype(np.int64))]


def local_hours(epoch_s: FloatArray) -> FloatArray:
    """Return the hour of day in Ambon (WIT) of each UTC epoch second."""
    return ((epoch_s + WIT_OFFSET_S) % DAY_S) / HOUR_S


def local_days(epoch_s: FloatArray) -> FloatArray:
    """Return the Ambon (WIT) day number since the epoch of each UTC epoch second."""
    return np.floor((epoch_s + WIT_OFFSET_S) / DAY_S)


def in_episodes(
    rng: np.random.Generator, epoch_s: FloatArray, per_day: float, median_s: float, max_s: float
) -> npt.NDArray[np.bool_]:
    """Return whether each time falls inside a random episode (an outage, a fault, a detour)."""
    begin = epoch_s.min() - max_s
    days = (epoch_s.max() - begin) / DAY_S
    n = rng.poisson(per_day * days)
    starts = np.sort(rng.uniform(begin, epoch_s.max(), n))
    ends = np.sort(starts + np.minimum(rng.lognormal(np.log(median_s), 1.0, n), max_s))
    # Inside some episode exactly when more episodes have started than ended by then.
    started = np.searchsorted(starts, epoch_s, side="right")
    ended = np.searchsorted(ends, epoch_s, side="right")
    return started > ended


def camera_series(rng: np.random.Generator, t: FloatArray, asset: AssetRow, seed: int) -> Series:
    """Cameras: online, except for outages; a few cameras are flaky."""
    per_day, median_min = [(0.1, 20.0), (1.0, 60.0), (4.0, 180.0)][rng.choice(3, p=[0.75, 0.2, 0.05])]
    offline = in_episodes(rng, t, per_day, median_min * 60, 3 * DAY_S)
    reasons = ("jaringan", "listrik", "tidak ada sinyal")
    details: list[dict[str, Any]] = [
        {"reason": reasons[int(r)]} if off else {"fps": 25, "bitrate_kbps": int(b)}
        for off, r, b in zip(
            offline.tolist(), rng.integers(0, 3, len(t)), rng.normal(2048, 150, len(t)), strict=True
        )
    ]
    statuses = ["offline" if off else "online" for off in offline.tolist()]
    return Series(statuses, np.full(len(t), np.nan), details)


def app_series(rng: np.random.Generator, t: FloatArray, asset: AssetRow, seed: int) -> Series:
    """Applications: up with a response time that grows with office-hours load, rarely down."""
    down = in_episodes(rng, t, rng.choice([0.03, 0.3], p=[0.8, 0.2]), 10 * 60, 6 * HOUR_S)
    hours = local_hours(t)
    load = 1.0 + 0.8 * np.exp(-(((hours - 10.5) / 2.5) ** 2))
    response = rng.uniform(120, 450) * load * rng.lognormal(0, 0.3, len(t))
    values = np.where(down, np.nan, np.clip(np.round(response), 1, 600_000))
    details: list[dict[str, Any]] = [
        {"http_status": 503, "error": "service unavailable"} if d else {"http_status": 200}
        for d in down.tolist()
    ]
    return Series(["down" if d else "up" for d in down.tolist()], values, details)


def _activity_hours(epoch_s: FloatArray) -> FloatArray:
    """Return cumulative waste-producing hours: daytime 06-22 WIT counts fully, the night a quarter."""
    h = local_hours(epoch_s)
    day = local_days(epoch_s)
    return day * 18.0 + 0.25 * np.minimum(h, 6) + np.clip(h - 6, 0, 16) + 0.25 * np.maximum(h - 22, 0)


def _collections(rng: np.random.Generator, t: FloatArray) -> FloatArray:
    """Return the times the truck actually came: a daily morning round that is sometimes missed."""
    first, last = local_days(np.array([t.min() - 4 * DAY_S, t.max()]))
    days = np.arange(first, last + 1)
    hour = rng.uniform(5.0, 9.0)
    when = days * DAY_S + hour * HOUR_S - WIT_OFFSET_S + rng.normal(0, 1200, len(days))
    kept = rng.random(len(days)) >= rng.choice([0.05, 0.25], p=[0.8, 0.2])
    kept[0] = True
    return np.asarray(when[kept], dtype=np.float64)


def dumping_series(rng: np.random.Generator, t: FloatArray, asset: AssetRow, seed: int) -> Series:
    """Dumping points: fill rises through the day and drops to near zero at each collection."""
    collected = _collections(rng, t)
    cycle = np.maximum(np.searchsorted(collected, t, side="right") - 1, 0)
    last = collected[cycle]
    per_day = rng.uniform(45, 90) * rng.lognormal(0, 0.15, len(collected))  # % of capacity per day
    filled = per_day[cycle] * (_activity_hours(t) - _activity_hours(last)) / 18.0
    fill = np.asarray(np.round(np.clip(filled, 0, 150), 1), dtype=np.float64)
    statuses = [_fill_status(f) for f in fill.tolist()]
    details: list[dict[str, Any]] = [
        {"last_collected_at": datetime.fromtimestamp(round(c), UTC).isoformat()} for c in last.tolist()
    ]
    return Series(statuses, fill, details)


def _fill_status(fill_pct: float) -> str:
    if fill_pct < 25:
        return "empty"
    if fill_pct < 70:
        return "half"
    return "full" if fill_pct < 100 else "overflow"


def _rain_response(seed: int, t: FloatArray, lag_s: float) -> FloatArray:
    """Return the city-wide rain's effect on a gauge, in units of one storm; wetter May to August."""
    weather = rng_for(seed, "weather", int(t.min()) // 86_400, int(t.max()) // 86_400)
    begin, end = t.min() - 3 * DAY_S, t.max()
    n = weather.poisson(0.6 * (end - begin) / DAY_S)
    starts, size = weather.uniform(begin, end, n), weather.exponential(1.0, n)
    months = np.array([datetime.fromtimestamp(s, UTC).month for s in starts.tolist()], dtype=np.int64)
    wet = np.where((months >= 5) & (months <= 8), 1.0, np.where((months == 4) | (months == 9), 0.5, 0.25))
    keep = weather.random(n) < wet
    starts, size = starts[keep], size[keep]
    since = t[:, None] - starts[None, :] - lag_s
    rise = np.clip(since / (2 * HOUR_S), 0, 1)
    decay = np.exp(-np.maximum(since - 2 * HOUR_S, 0) / (6 * HOUR_S))
    return np.asarray((size[None, :] * rise * decay).sum(axis=1), dtype=np.float64)


def river_series(rng: np.random.Generator, t: FloatArray, asset: AssetRow, seed: int) -> Series:
    """Water level: a slow random walk around the base flow plus storms; alert level from thresholds."""
    p = asset.properties
    waspada, siaga, awas = float(p["waspada_cm"]), float(p["siaga_cm"]), float(p["awas_cm"])
    base = waspada * rng.uniform(0.25, 0.4)
    walk = np.zeros(len(t))
    for k in range(1, len(t)):
        keep = np.exp(-(t[k] - t[k - 1]) / (12 * HOUR_S))
        walk[k] = walk[k - 1] * keep + 0.06 * waspada * np.sqrt(1 - keep**2) * rng.standard_normal()
    reach = int(asset.external_id.rsplit("-", 1)[1])  # gauges are numbered downstream; floods arrive later
    storms = _rain_response(seed, t, lag_s=reach * 0.5 * HOUR_S) * (siaga - base) * rng.uniform(0.5, 0.8)
    level = np.clip(np.round(base + walk + storms, 1), -100, 3000)
    statuses = [
        "awas" if v >= awas else "siaga" if v >= siaga else "waspada" if v >= waspada else "normal"
        for v in level.tolist()
    ]
    trend = np.sign(np.diff(level, prepend=level[0]))
    details: list[dict[str, Any]] = [
        {"trend": {1.0: "naik", -1.0: "turun"}.get(s, "tetap")} for s in trend.tolist()
    ]
    return Series(statuses, level, details)


def _traffic_profile(hours: FloatArray, weekday: FloatArray) -> FloatArray:
    """Return demand as a share of capacity: morning, midday and evening peaks; quieter weekends."""

    def peak(at: float, width: float, height: float) -> FloatArray:
        return height * np.exp(-0.5 * ((hours - at) / width) ** 2)

    demand = 0.1 + peak(7.3, 0.9, 0.85) + peak(12.5, 1.6, 0.45) + peak(17.3, 1.3, 0.9)
    return np.asarray(demand * np.select([weekday == 6, weekday == 5], [0.6, 0.85], 1.0), dtype=np.float64)


def junction_series(rng: np.random.Generator, t: FloatArray, asset: AssetRow, seed: int) -> Series:
    """Junctions: vehicles per 15 minutes with rush hours; status from the load on the junction."""
    capacity = rng.uniform(160, 280) * (1 + 0.25 * (int(asset.properties["legs"]) - 3))
    weekday = (local_days(t) + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
    jam = in_episodes(rng, t, 0.1, 45 * 60, 3 * HOUR_S)
    load = (
        _traffic_profile(local_hours(t), weekday) * rng.lognormal(0, 0.12, len(t)) * np.where(jam, 1.4, 1.0)
    )
    vehicles = np.clip(np.round(capacity * load), 0, 10_000)
    ratio = vehicles / capacity
    statuses = ["macet" if r >= 0.8 else "padat" if r >= 0.55 else "lancar" for r in ratio.tolist()]
    night = (local_hours(t) >= 23) | (local_hours(t) < 5)
    flashing = (night & (asset.properties["signal_type"] == "fixed_time")) | in_episodes(
        rng, t, 0.02, 2 * HOUR_S, DAY_S
    )
    speed = np.round(38 * (1 - 0.7 * np.minimum(ratio, 1.2) / 1.2), 1)
    details: list[dict[str, Any]] = [
        {"signal": "flashing" if f else "normal", "avg_speed_kmh": s}
        for f, s in zip(flashing.tolist(), speed.tolist(), strict=True)
    ]
    return Series(statuses, vehicles, details)


# Share of a day's sales made in each WIT hour, by category.
_SALES_HOURS: dict[str, FloatArray] = {
    "restoran": np.array([0] * 7 + [1, 2, 2, 3, 6, 8, 5, 3, 3, 3, 4, 7, 8, 6, 4, 2, 0], dtype=np.float64),
    "hotel": np.array([1] * 6 + [2, 3, 3, 3, 4, 5, 5, 4, 4, 4, 4, 4, 4, 3, 3, 2, 2, 1], dtype=np.float64),
    "hiburan": np.array([3, 2, 1] + [0] * 11 + [1, 1, 1, 1, 2, 4, 6, 8, 8, 6], dtype=np.float64),
    "parkir": np.array([0] * 7 + [3, 6, 7, 7, 7, 7, 7, 6, 6, 7, 8, 7, 5, 4, 2, 1, 0], dtype=np.float64),
}
_DAILY_SALES_IDR = {"restoran": 3.5e6, "hotel": 15e6, "hiburan": 6e6, "parkir": 1.5e6}
_TICKET_IDR = {"restoran": 85e3, "hotel": 650e3, "hiburan": 250e3, "parkir": 5e3}


def _sales_so_far(category: str, hours: FloatArray) -> FloatArray:
    """Return the share of the day's sales made by each local hour of day."""
    shares = _SALES_HOURS[category] / _SALES_HOURS[category].sum()
    cumulative = np.concatenate([[0.0], np.cumsum(shares)])
    return np.asarray(np.interp(hours, np.arange(25, dtype=np.float64), cumulative), dtype=np.float64)


def taxpayer_series(rng: np.random.Generator, t: FloatArray, asset: AssetRow, seed: int) -> Series:
    """Tapping boxes: online with today's cumulative sales in IDR, offline now and then."""
    category = str(asset.properties["category"])
    offline = in_episodes(rng, t, rng.choice([0.05, 0.5], p=[0.9, 0.1]), 3 * HOUR_S, 2 * DAY_S)
    days = local_days(t)
    first = days.min()
    daily = _DAILY_SALES_IDR[category] * rng.lognormal(0, 0.6)
    per_day = daily * rng.lognormal(0, 0.25, int(days.max() - first) + 1)
    weekend = np.where(((days + 3) % 7) >= 4, 1.2, 1.0)  # Friday to Sunday
    amount = np.round(
        per_day[(days - first).astype(np.int64)] * weekend * _sales_so_far(category, local_hours(t)), -2
    )
    transactions = np.round(amount / _TICKET_IDR[category]).astype(np.int64).tolist()
    details: list[dict[str, Any]] = [
        {} if off else {"transactions": n} for off, n in zip(offline.tolist(), transactions, strict=True)
    ]
    values = np.where(offline, np.nan, np.clip(amount, 0, 1e12))
    return Series(["offline" if off else "online" for off in offline.tolist()], values, details)


MODELS: dict[str, Model] = {
    "cctv": camera_series,
    "city_apps": app_series,
    "dumping_points": dumping_series,
    "das_stations": river_series,
    "traffic_junctions": junction_series,
    "taxpayers": taxpayer_series,
}
