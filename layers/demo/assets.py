"""Demo assets of each point layer: sampled on land, named in Indonesian, valid for their models."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from layers.demo.gazetteer import DISTRICTS, RIVERS
from layers.demo.geography import DemoGeography, Place
from layers.demo.names import (
    BUSINESS_KINDS,
    BUSINESS_WORDS,
    CITY_APPS,
    DISTRICT_ABBREVIATIONS,
    HIGH_RATE_KINDS,
    OFFICES,
    STATION_REACHES,
    TPS_LABELS,
)
from layers.demo.rows import AssetRow
from layers.demo.sampling import URBAN, Hotspot, IntArray, PointChunk, sample_points

TAX_CATEGORIES = ("restoran", "hotel", "hiburan", "parkir")
TAX_CATEGORY_SHARES = (0.55, 0.12, 0.13, 0.20)
MAX_TAXPAYERS = 999 * 9_999  # the NOP's block (3 digits) and serial (4 digits)
APP_RING_DEG = 0.00012  # apps sharing an office sit on a ~13 m ring so that each can be clicked
# Waste follows people but reaches the outskirts too: a lighter pull towards the centre.
SPREAD: tuple[Hotspot, ...] = tuple(Hotspot(h.lon, h.lat, h.sigma_deg * 1.5, h.weight) for h in URBAN)


@dataclass(frozen=True, slots=True)
class Addresses:
    """Street names and village names to label sampled points with."""

    village_names: list[str]
    village_district: list[int]  # index into DISTRICTS
    village_ordinal: list[int]  # 1-based order within its district
    streets: list[list[str]]  # per district

    @classmethod
    def of(cls, geography: DemoGeography) -> Addresses:
        """Build the address tables of a geography."""
        codes = [d.code for d in DISTRICTS]
        district = [codes.index(v.properties["district_code"]) for v in geography.villages]
        ordinal = [district[: k + 1].count(district[k]) for k in range(len(district))]
        names = [v.name for v in geography.villages]
        return cls(names, district, ordinal, [list(d.streets) for d in DISTRICTS])

    def pick_streets(self, rng: np.random.Generator, villages: IntArray) -> list[str]:
        """Return a random street of each village's district."""
        draws = rng.random(len(villages)).tolist()
        out = []
        for v, u in zip(villages.tolist(), draws, strict=True):
            streets = self.streets[self.village_district[v]]
            out.append(streets[int(u * len(streets))])
        return out


def _choice(
    rng: np.random.Generator, options: tuple[str, ...], n: int, p: tuple[float, ...] | None = None
) -> list[str]:
    return [options[k] for k in rng.choice(len(options), size=n, p=p).tolist()]


def _floats(values: npt.NDArray[np.float64], decimals: int) -> list[float]:
    return list(np.round(values, decimals).tolist())


def camera_rows(rng: np.random.Generator, geography: DemoGeography, count: int) -> Iterator[AssetRow]:
    """Yield CCTV cameras, most of them in the old town."""
    book = Addresses.of(geography)
    for chunk in sample_points(rng, geography, count):
        n = len(chunk.lon)
        streets = book.pick_streets(rng, chunk.village)
        direction = _floats(np.round(rng.uniform(0, 360, n), 1) % 360, 1)
        fov, reach = _floats(rng.uniform(40, 110, n), 0), _floats(rng.uniform(40, 150, n), 0)
        ptz = (rng.random(n) < 0.15).tolist()
        lons, lats, villages = chunk.lon.tolist(), chunk.lat.tolist(), chunk.village.tolist()
        for k in range(min(n, count - chunk.first)):
            external_id = f"CCTV-{chunk.first + k + 1:04d}"
            place = f"{streets[k]}, {book.village_names[villages[k]]}"
            props = {
                "camera_id": external_id,
                "location": place,
                "stream_url": f"rtsp://cctv.demo.invalid/{external_id.lower()}",
                "view_direction_deg": direction[k],
                "fov_deg": fov[k],
                "range_m": reach[k],
                "ptz": ptz[k],
            }
            yield AssetRow(external_id, f"CCTV {place}", lons[k], lats[k], props)


def _business_names(rng: np.random.Generator, categories: list[str]) -> tuple[list[str], list[float]]:
    """Return a business name and its tax rate for each category."""
    words = _choice(rng, BUSINESS_WORDS, len(categories))
    draws = rng.random(len(categories)).tolist()
    names, rates = [], []
    for category, word, u in zip(categories, words, draws, strict=True):
        kinds = BUSINESS_KINDS[category]
        kind = kinds[int(u * len(kinds))]
        names.append(f"{kind} {word}")
        rates.append(40.0 if kind in HIGH_RATE_KINDS else 10.0)
    return names, rates


def _nop(book: Addresses, village: int, index: int) -> str:
    """Return a Nomor Objek Pajak: province.city.district.village.block-serial.kind."""
    district = DISTRICTS[book.village_district[village]].code[-2:]
    block, serial = divmod(index, 9_999)
    return f"81.71.{district}0.{book.village_ordinal[village]:03d}.{block + 1:03d}-{serial + 1:04d}.0"


def taxpayer_rows(rng: np.random.Generator, geography: DemoGeography, count: int) -> Iterator[AssetRow]:
    """Yield taxpayers with tapping boxes: restaurants, hotels, entertainment and parking."""
    if count > MAX_TAXPAYERS:
        raise ValueError(f"at most {MAX_TAXPAYERS} taxpayers fit the NOP numbering, not {count}")
    book = Addresses.of(geography)
    for chunk in sample_points(rng, geography, count):
        n = len(chunk.lon)
        categories = _choice(rng, TAX_CATEGORIES, n, TAX_CATEGORY_SHARES)
        names, rates = _business_names(rng, categories)
        streets = book.pick_streets(rng, chunk.village)
        numbers = rng.integers(1, 200, n).tolist()
        lons, lats, villages = chunk.lon.tolist(), chunk.lat.tolist(), chunk.village.tolist()
        for k in range(min(n, count - chunk.first)):
            index, village = chunk.first + k, villages[k]
            nop = _nop(book, village, index)
            props = {
                "nop": nop,
                "business_name": names[k],
                "category": categories[k],
                "tapping_box_id": f"TB-{index + 1:07d}",
                "address": f"{streets[k]} No. {numbers[k]}, {book.village_names[village]}",
                "tax_rate_pct": rates[k],
            }
            yield AssetRow(nop, names[k], lons[k], lats[k], props)


def _tps_capacities(rng: np.random.Generator, kinds: list[str]) -> list[float]:
    low = {"tps": 2.0, "tps3r": 15.0, "kontainer": 6.0, "depo": 25.0}
    high = {"tps": 6.0, "tps3r": 40.0, "kontainer": 10.0, "depo": 60.0}
    draws = rng.random(len(kinds)).tolist()
    return [round(low[k] + u * (high[k] - low[k]), 1) for k, u in zip(kinds, draws, strict=True)]


def dumping_point_rows(rng: np.random.Generator, geography: DemoGeography, count: int) -> Iterator[AssetRow]:
    """Yield TPS, containers and depots spread over the settled land."""
    book = Addresses.of(geography)
    for chunk in sample_points(rng, geography, count, SPREAD, uniform_weight=0.35):
        n = len(chunk.lon)
        kinds = _choice(rng, tuple(TPS_LABELS), n, (0.60, 0.07, 0.25, 0.08))
        capacities = _tps_capacities(rng, kinds)
        streets = book.pick_streets(rng, chunk.village)
        routes = rng.integers(1, 9, n).tolist()
        lons, lats, villages = chunk.lon.tolist(), chunk.lat.tolist(), chunk.village.tolist()
        for k in range(min(n, count - chunk.first)):
            village = villages[k]
            district = DISTRICTS[book.village_district[village]].code
            address = f"{streets[k]}, {book.village_names[village]}"
            props = {
                "tps_type": kinds[k],
                "capacity_m3": capacities[k],
                "address": address,
                "collection_route": f"R-{DISTRICT_ABBREVIATIONS[district]}-{routes[k]:02d}",
            }
            name = f"{TPS_LABELS[kinds[k]]} {address}"
            yield AssetRow(f"TPS-{chunk.first + k + 1:04d}", name, lons[k], lats[k], props)


def _junction_names(rng: np.random.Generator, book: Addresses, chunk: PointChunk) -> list[str]:
    first, second = book.pick_streets(rng, chunk.village), book.pick_streets(rng, chunk.village)
    names = []
    for a, b, v in zip(first, second, chunk.village.tolist(), strict=True):
        names.append(f"Simpang {a} – {b}" if a != b else f"Simpang {a}, {book.village_names[v]}")
    return names


def junction_rows(rng: np.random.Generator, geography: DemoGeography, count: int) -> Iterator[AssetRow]:
    """Yield signalised junctions with traffic counters, most of them in the old town."""
    book = Addresses.of(geography)
    for chunk in sample_points(rng, geography, count, uniform_weight=0.1):
        n = len(chunk.lon)
        names = _junction_names(rng, book, chunk)
        signals = _choice(rng, ("fixed_time", "actuated", "adaptive"), n, (0.7, 0.2, 0.1))
        legs = rng.choice([3, 4, 5], size=n, p=[0.4, 0.5, 0.1]).tolist()
        lons, lats = chunk.lon.tolist(), chunk.lat.tolist()
        for k in range(min(n, count - chunk.first)):
            number = chunk.first + k + 1
            props = {
                "junction_code": f"SMP-{number:03d}",
                "signal_type": signals[k],
                "legs": legs[k],
                "counter_id": f"CNT-{number:03d}",
            }
            yield AssetRow(f"SMP-{number:03d}", names[k], lons[k], lats[k], props)


def station_rows(geography: DemoGeography) -> Iterator[AssetRow]:
    """Yield the water-level gauges, upstream to downstream along each river, on the river line."""
    rivers = {r.code: r for r in geography.rivers}
    for seed in RIVERS:
        river = rivers[seed.code]
        reaches = STATION_REACHES[seed.stations]
        for k, reach in enumerate(reaches):
            fraction = (k + 0.6) / len(reaches) * 0.9
            point = shapely.line_interpolate_point(river.geom, fraction, normalized=True)
            yield _station(river, k + 1, reach, fraction, (point.x, point.y))


def _station(river: Place, number: int, reach: str, fraction: float, lonlat: tuple[float, float]) -> AssetRow:
    """Return one gauge; thresholds rise downstream and with the river's length."""
    scale = 0.8 + 0.05 * float(river.properties["length_km"])
    waspada = 5 * round(scale * (60 + 80 * fraction) / 5)
    code = f"DAS-{river.code}-{number:02d}"
    props = {
        "station_code": code,
        "river_code": river.code,
        "river_name": river.name,
        "waspada_cm": float(waspada),
        "siaga_cm": float(waspada + 50),
        "awas_cm": float(waspada + 110),
    }
    return AssetRow(code, f"Pos Duga Air {river.name} {reach}", lonlat[0], lonlat[1], props)


def app_rows() -> Iterator[AssetRow]:
    """Yield the city applications, each at the office of the agency that runs it."""
    for k, app in enumerate(CITY_APPS):
        lon, lat = OFFICES[app.agency]
        angle = 2 * math.pi * k / len(CITY_APPS)
        props = {
            "app_code": app.code,
            "app_name": app.name,
            "agency": app.agency,
            "health_url": f"https://{app.code}.demo.invalid/health",
        }
        position = (lon + APP_RING_DEG * math.cos(angle), lat + APP_RING_DEG * math.sin(angle))
        yield AssetRow(app.code, app.name, position[0], position[1], props)
