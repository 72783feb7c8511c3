"""Seeded random streams and fast, chunked sampling of points on the demo city's land."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from layers.demo.geography import DemoGeography

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CHUNK_SIZE = 1 << 16  # candidates per draw; fixed so that a smaller count yields a prefix of a larger one


@dataclass(frozen=True, slots=True)
class Hotspot:
    """A Gaussian cluster of points around a settlement."""

    lon: float
    lat: float
    sigma_deg: float
    weight: float


# Where people, shops and traffic are: the old town on the bay, then Passo, Poka and Laha.
URBAN: tuple[Hotspot, ...] = (
    Hotspot(128.180, -3.700, 0.011, 0.50),
    Hotspot(128.250, -3.642, 0.006, 0.08),
    Hotspot(128.188, -3.650, 0.006, 0.06),
    Hotspot(128.105, -3.690, 0.007, 0.04),
    Hotspot(128.145, -3.725, 0.006, 0.04),
)


@dataclass(frozen=True, slots=True)
class PointChunk:
    """A run of sampled points: the index of the first, their coordinates and their village."""

    first: int
    lon: FloatArray
    lat: FloatArray
    village: IntArray  # index into DemoGeography.villages


def rng_for(seed: int, *labels: str | int) -> np.random.Generator:
    """Return a generator seeded by `seed` and labels, stable across processes and platforms."""
    digest = hashlib.blake2b("\x1f".join(map(str, labels)).encode(), digest_size=16).digest()
    words = np.frombuffer(digest, dtype=np.uint32).tolist()
    return np.random.default_rng([seed % 2**64 % 2**32, seed % 2**64 // 2**32, *words])


class VillageIndex:
    """Finds the village that holds each of many points."""

    def __init__(self, geography: DemoGeography) -> None:
        self._tree = shapely.STRtree([v.geom for v in geography.villages])

    def lookup(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Return the index of the village holding each point (the nearest, for one on no village)."""
        points = shapely.points(lon, lat)
        found = np.full(len(points), -1, dtype=np.int64)
        pairs = self._tree.query(points, predicate="intersects")
        found[pairs[0]] = pairs[1]
        lost = np.flatnonzero(found < 0)
        if len(lost):
            found[lost] = self._tree.query_nearest(points[lost], all_matches=False)[1]
        return found


def _candidates(
    rng: np.random.Generator, bounds: Sequence[float], hotspots: Sequence[Hotspot], uniform_weight: float
) -> tuple[FloatArray, FloatArray]:
    """Draw one chunk of candidate points from a mixture of a uniform box and Gaussian hotspots."""
    weights = np.array([uniform_weight, *(h.weight for h in hotspots)])
    component = rng.choice(len(weights), size=CHUNK_SIZE, p=weights / weights.sum())
    centre_x = np.array([0.0, *(h.lon for h in hotspots)])[component]
    centre_y = np.array([0.0, *(h.lat for h in hotspots)])[component]
    sigma = np.array([0.0, *(h.sigma_deg for h in hotspots)])[component]
    x0, y0, x1, y1 = bounds
    uniform = component == 0
    lon = np.where(
        uniform, rng.uniform(x0, x1, CHUNK_SIZE), centre_x + sigma * rng.standard_normal(CHUNK_SIZE)
    )
    lat = np.where(
        uniform, rng.uniform(y0, y1, CHUNK_SIZE), centre_y + sigma * rng.standard_normal(CHUNK_SIZE)
    )
    return lon, lat


def sample_points(
    rng: np.random.Generator,
    geography: DemoGeography,
    count: int,
    hotspots: Sequence[Hotspot] = URBAN,
    uniform_weight: float = 0.3,
) -> Iterator[PointChunk]:
    """Yield at least `count` points on the city's land in chunks, by rejection sampling.

    The last chunk is not cut short, so that a caller drawing per-point attributes chunk by chunk
    gets the same first rows whatever the count; the caller stops at `count`.
    """
    land: BaseGeometry = geography.city
    shapely.prepare(land)
    villages = VillageIndex(geography)
    done = 0
    while done < count:
        lon, lat = _candidates(rng, land.bounds, hotspots, uniform_weight)
        keep = shapely.contains_xy(land, lon, lat)
        lon, lat = lon[keep], lat[keep]
        yield PointChunk(done, lon, lat, villages.lookup(lon, lat))
        done += len(lon)
