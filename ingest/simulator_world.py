"""The demo city's live behaviour on a fast clock: rain raising rivers, bins filling, cameras dropping out.

Pure and deterministic: the same assets, seed and start give the same reports, step after step. Each asset
has its own random stream (seeded by the seed and its layer and external id), the weather one shared stream.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec, StatusSpec, Storage

HOUR_S = 3600.0
DAY_S = 86_400.0
WIT = timedelta(hours=9)  # Ambon keeps UTC+9 all year


@dataclass(frozen=True, slots=True)
class SimAsset:
    """An asset as the feature API shows it: id, layer, external id and properties."""

    asset_id: int
    layer_id: str
    external_id: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SimReport:
    """One status report the simulator wants to send."""

    asset: SimAsset
    status: str
    value: float | None
    details: Mapping[str, Any]


Reading = tuple[str, float | None, dict[str, Any]]


def local_hour(t: datetime) -> float:
    """Return the hour of day in Ambon (WIT)."""
    local = t + WIT
    return local.hour + local.minute / 60 + local.second / 3600


def _chance(rng: random.Random, rate_per_day: float, dt_s: float) -> bool:
    """Return whether a Poisson event with this daily rate happens within `dt_s`."""
    return rng.random() < 1 - math.exp(-rate_per_day * dt_s / DAY_S)


class Model(Protocol):
    """The live behaviour of one asset."""

    def step(self, t: datetime, dt_s: float) -> Reading:
        """Advance to `t` (dt_s simulated seconds later) and return the reading."""
        ...


class Weather:
    """City-wide storms: the first one soon after the start, then at random, each rising then draining."""

    def __init__(self, seed: int, start: datetime) -> None:
        rng = random.Random(f"{seed}:weather")  # noqa: S311 - simulation, not security
        self.storms: list[tuple[float, float]] = [(start.timestamp() + 600, 1.25)]
        t = start.timestamp() + 600
        for _ in range(200):
            t += rng.expovariate(3 / DAY_S)  # about three storms a (simulated) day
            self.storms.append((t, rng.uniform(0.3, 1.3)))

    def effect(self, t: float) -> float:
        """Return the runoff reaching a gauge at epoch `t`, in storms (1 reaches the awas level)."""
        total = 0.0
        for start, size in self.storms:
            since = t - start
            if since <= 0:
                break
            rise = min(since / (1.5 * HOUR_S), 1.0)
            total += size * rise * math.exp(-max(since - 1.5 * HOUR_S, 0) / (4 * HOUR_S))
        return total


class River:
    """A water-level gauge: base flow with a slow wander, plus storm runoff arriving later downstream."""

    def __init__(self, rng: random.Random, asset: SimAsset, weather: Weather) -> None:
        p = asset.properties
        self.levels = (float(p["waspada_cm"]), float(p["siaga_cm"]), float(p["awas_cm"]))
        self.base = self.levels[0] * rng.uniform(0.25, 0.4)
        self.reach = rng.uniform(0.7, 1.1)
        self.lag_s = rng.uniform(0, 1.5) * HOUR_S
        self.wander, self.last, self.rng, self.weather = 0.0, self.base, rng, weather

    def step(self, t: datetime, dt_s: float) -> Reading:
        """Advance and read the level in cm with its alert status."""
        keep = math.exp(-dt_s / (12 * HOUR_S))
        self.wander = self.wander * keep + 0.05 * self.levels[0] * math.sqrt(1 - keep**2) * self.rng.gauss(
            0, 1
        )
        storm = self.weather.effect(t.timestamp() - self.lag_s)
        level = round(
            min(max(self.base + self.wander + storm * self.reach * (self.levels[2] - self.base), -100), 3000),
            1,
        )
        trend = "naik" if level > self.last + 0.5 else "turun" if level < self.last - 0.5 else "tetap"
        self.last = level
        waspada, siaga, awas = self.levels
        status = (
            "awas"
            if level >= awas
            else "siaga"
            if level >= siaga
            else "waspada"
            if level >= waspada
            else "normal"
        )
        return status, level, {"trend": trend}


class DumpingPoint:
    """A TPS filling through the day (little at night), emptied by the morning truck when it comes."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.per_active_hour = rng.uniform(45, 90) / 18
        self.truck_hour = rng.uniform(5, 9)
        self.rng = rng
        self.fill = (local_hour(start) - self.truck_hour) % 24 * self.per_active_hour * 0.8
        self.collected = start
        self.truck_day = (start + WIT).date() if local_hour(start) >= self.truck_hour else None

    def step(self, t: datetime, dt_s: float) -> Reading:
        """Advance and read the fill level in %."""
        hour = local_hour(t)
        activity = 1.0 if 6 <= hour < 22 else 0.25
        self.fill = min(self.fill + self.per_active_hour * activity * dt_s / HOUR_S, 150.0)
        today = (t + WIT).date()
        if hour >= self.truck_hour and self.truck_day != today:
            self.truck_day = today
            if self.rng.random() < 0.85:  # the truck misses a round now and then
                self.fill, self.collected = self.rng.uniform(0, 5), t
        fill = round(self.fill, 1)
        status = "empty" if fill < 25 else "half" if fill < 70 else "full" if fill < 100 else "overflow"
        return status, fill, {"last_collected_at": self.collected.isoformat()}


class Episodes:
    """Something that fails now and then and comes back (a camera, an app, a tapping box)."""

    def __init__(self, rng: random.Random, per_day: float, mean_s: float) -> None:
        self.rng, self.per_day, self.mean_s, self.down = rng, per_day, mean_s, False

    def step(self, dt_s: float) -> bool:
        """Advance; return whether it is down now."""
        if self.down:
            self.down = not _chance(self.rng, DAY_S / self.mean_s, dt_s)
        else:
            self.down = _chance(self.rng, self.per_day, dt_s)
        return self.down


class Camera:
    """A CCTV camera: online, with outages; one in ten is flaky."""

    def __init__(self, rng: random.Random) -> None:
        flaky = rng.random() < 0.1
        self.outages = Episodes(rng, 6.0 if flaky else 1.0, (90 if flaky else 25) * 60)
        self.reason = rng.choice(("jaringan", "listrik", "tidak ada sinyal"))

    def step(self, t: datetime, dt_s: float) -> Reading:
        """Advance and read online/offline."""
        if self.outages.step(dt_s):
            return "offline", None, {"reason": self.reason}
        return "online", None, {"fps": 25}


def _traffic_demand(hour: float, weekday: int) -> float:
    def peak(at: float, width: float, height: float) -> float:
        return height * math.exp(-0.5 * ((hour - at) / width) ** 2)

    demand = 0.1 + peak(7.3, 0.9, 0.85) + peak(12.5, 1.6, 0.45) + peak(17.3, 1.3, 0.9)
    return demand * (0.6 if weekday == 6 else 0.85 if weekday == 5 else 1.0)


class Junction:
    """A traffic counter: vehicles per 15 minutes following the rush hours."""

    def __init__(self, rng: random.Random, asset: SimAsset) -> None:
        legs = int(asset.properties.get("legs", 4))
        self.capacity = rng.uniform(160, 280) * (1 + 0.25 * (legs - 3))
        self.rng = rng

    def step(self, t: datetime, dt_s: float) -> Reading:
        """Advance and read the count and congestion level."""
        local = t + WIT
        vehicles = round(
            self.capacity * _traffic_demand(local_hour(t), local.weekday()) * self.rng.lognormvariate(0, 0.1)
        )
        ratio = vehicles / self.capacity
        status = "macet" if ratio >= 0.8 else "padat" if ratio >= 0.55 else "lancar"
        return (
            status,
            float(min(vehicles, 10_000)),
            {"avg_speed_kmh": round(38 * (1 - 0.7 * min(ratio, 1.2) / 1.2), 1)},
        )


class App:
    """A city application: up with a response time that grows in office hours, down now and then."""

    def __init__(self, rng: random.Random) -> None:
        self.outages = Episodes(rng, 0.5, 15 * 60)
        self.base_ms = rng.uniform(120, 450)
        self.rng = rng

    def step(self, t: datetime, dt_s: float) -> Reading:
        """Advance and read up/down and the response time in ms."""
        if self.outages.step(dt_s):
            return "down", None, {"http_status": 503}
        load = 1 + 0.8 * math.exp(-(((local_hour(t) - 10.5) / 2.5) ** 2))
        return "up", float(round(self.base_ms * load * self.rng.lognormvariate(0, 0.2))), {"http_status": 200}


_SALES_PEAK = {"restoran": 16.0, "hotel": 14.0, "hiburan": 21.0, "parkir": 13.0}
_DAILY_IDR = {"restoran": 3.5e6, "hotel": 15e6, "hiburan": 6e6, "parkir": 1.5e6}


class TappingBox:
    """A taxpayer's tapping box: today's cumulative sales in IDR; offline now and then."""

    def __init__(self, rng: random.Random, asset: SimAsset) -> None:
        self.category = str(asset.properties.get("category", "restoran"))
        self.daily = _DAILY_IDR.get(self.category, 3e6) * rng.lognormvariate(0, 0.5)
        self.outages = Episodes(rng, 0.2, 3 * HOUR_S)

    def step(self, t: datetime, dt_s: float) -> Reading:
        """Advance and read online/offline and the sales so far today."""
        if self.outages.step(dt_s):
            return "offline", None, {}
        peak = _SALES_PEAK.get(self.category, 15.0)
        share = 1 / (1 + math.exp(-(local_hour(t) - peak) / 2.5))  # most sales before and around the peak
        return "online", float(round(self.daily * share, -2)), {}


Build = Callable[[random.Random, SimAsset, datetime, Weather], Model]


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the assets of a kind of layer behave, told apart by the status vocabulary and unit they report."""

    statuses: tuple[str, ...]
    unit: str | None
    build: Build
    sensor: bool = False  # a field sensor: it reports over MQTT when a broker is set up

    def fits(self, status: StatusSpec) -> bool:
        """Return whether a layer declaring this status speaks this behaviour's vocabulary."""
        return status.values == self.statuses and status.unit == self.unit


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(("normal", "waspada", "siaga", "awas"), "cm", lambda r, a, _, w: River(r, a, w), sensor=True),
    Behaviour(
        ("empty", "half", "full", "overflow"), "%", lambda r, _, s, __: DumpingPoint(r, s), sensor=True
    ),
    Behaviour(("online", "offline"), None, lambda r, *_: Camera(r)),
    Behaviour(("lancar", "padat", "macet"), "veh/15min", lambda r, a, *_: Junction(r, a)),
    Behaviour(("up", "down"), "ms", lambda r, *_: App(r)),
    Behaviour(("online", "offline"), "IDR", lambda r, a, *_: TappingBox(r, a), sensor=True),
)


def behaviour_of(layer: LayerSpec) -> Behaviour | None:
    """Return how the assets of a layer behave, from its declared status; None if nothing here fits."""
    if layer.status is None or layer.storage is not Storage.ASSETS:
        return None
    return next((b for b in BEHAVIOURS if b.fits(layer.status)), None)


# The catalog's live layers this simulator can drive, in catalog order.
SIMULATED: Mapping[str, Behaviour] = {
    layer_id: behaviour for layer_id, spec in LAYERS.items() if (behaviour := behaviour_of(spec)) is not None
}


def _model(asset: SimAsset, seed: int, start: datetime, weather: Weather) -> Model | None:
    behaviour = SIMULATED.get(asset.layer_id)
    if behaviour is None:
        return None
    rng = random.Random(f"{seed}:{asset.layer_id}:{asset.external_id}")  # noqa: S311 - simulation
    return behaviour.build(rng, asset, start, weather)


class World:
    """All simulated assets on one simulated clock; says which reports are due at each step."""

    def __init__(self, assets: Sequence[SimAsset], seed: int, start: datetime, min_gap_s: float) -> None:
        weather = Weather(seed, start)
        self.now = start.astimezone(UTC)
        self.min_gap_s = min_gap_s  # simulated seconds between two reports of an unchanged asset
        self.models: list[tuple[SimAsset, Model]] = []
        for asset in assets:
            model = _model(asset, seed, start, weather)
            if model is not None:
                self.models.append((asset, model))
        self.last_status: dict[int, str] = {}
        self.last_sent: dict[int, datetime] = {}

    def step(self, dt_s: float) -> list[SimReport]:
        """Advance the clock by `dt_s` simulated seconds; return changed reports first, then due ones."""
        self.now += timedelta(seconds=dt_s)
        changed: list[SimReport] = []
        due: list[SimReport] = []
        for asset, model in self.models:
            status, value, details = model.step(self.now, dt_s)
            report = SimReport(asset, status, value, details)
            if self.last_status.get(asset.asset_id) != status:
                changed.append(report)
            elif self._due(asset):
                due.append(report)
        return changed + due

    def _due(self, asset: SimAsset) -> bool:
        spec = LAYERS[asset.layer_id].status
        every = spec.report_every.total_seconds() if spec else 300.0
        last = self.last_sent.get(asset.asset_id)
        return last is None or (self.now - last).total_seconds() >= max(every, self.min_gap_s)

    def sent(self, reports: Sequence[SimReport]) -> None:
        """Record that these reports went out (the others stay due)."""
        for report in reports:
            self.last_status[report.asset.asset_id] = report.status
            self.last_sent[report.asset.asset_id] = self.now
