"""Generate the demo city's assets and their status history, deterministically from a seed.

This is synthetic demo data (see DEMO_NOTE): the names are realistic, everything else is invented.
No database is touched; the loader consumes these iterators.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from types import MappingProxyType

import numpy as np

from layers.catalog import get_layer
from layers.demo.assets import (
    app_rows,
    camera_rows,
    dumping_point_rows,
    junction_rows,
    station_rows,
    taxpayer_rows,
)
from layers.demo.geography import DemoGeography, build_geography
from layers.demo.history import MODELS, sample_offsets
from layers.demo.rows import DEMO_NOTE, AssetRow, StatusRow
from layers.demo.sampling import rng_for

__all__ = [
    "BASE_COUNTS",
    "DEMO_NOTE",
    "AssetRow",
    "StatusRow",
    "generate_assets",
    "generate_history",
    "layer_counts",
]

BASE_COUNTS: Mapping[str, int] = MappingProxyType(
    {
        "cctv": 150,
        "taxpayers": 1500,
        "dumping_points": 300,
        "das_stations": 15,
        "traffic_junctions": 60,
        "city_apps": 10,
    }
)
# Real things the city has a fixed number of: they do not grow with the scale.
FIXED_LAYERS = frozenset({"das_stations", "city_apps"})

Sampler = Callable[[np.random.Generator, DemoGeography, int], Iterator[AssetRow]]
_SAMPLED: Mapping[str, Sampler] = {
    "cctv": camera_rows,
    "taxpayers": taxpayer_rows,
    "dumping_points": dumping_point_rows,
    "traffic_junctions": junction_rows,
}
_FIXED: Mapping[str, Callable[[DemoGeography], Iterator[AssetRow]]] = {
    "das_stations": station_rows,
    "city_apps": lambda _geography: app_rows(),
}


def layer_counts(scale: int) -> dict[str, int]:
    """Return how many assets of each layer a demo city of this scale has."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    return {layer: n if layer in FIXED_LAYERS else n * scale for layer, n in BASE_COUNTS.items()}


def generate_assets(layer_id: str, count: int, seed: int) -> Iterator[AssetRow]:
    """Return a stream of `count` demo assets of a point layer; the same arguments give the same rows.

    For a sampled layer, the rows for a smaller count are the first rows for a larger one. The DAS
    stations and city apps are fixed real things: they ignore the seed, and `count` takes the first ones.
    """
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    geography = build_geography()
    if layer_id in _FIXED:
        available = BASE_COUNTS[layer_id]
        if count > available:
            raise ValueError(f"the demo city has only {available} {layer_id}, not {count}")
        return islice(_FIXED[layer_id](geography), count)
    if layer_id not in _SAMPLED:
        raise ValueError(f"layer {layer_id!r} has no demo point assets; see layers.demo.geography")
    return _SAMPLED[layer_id](rng_for(seed, "assets", layer_id), geography, count)


def generate_history(
    layer_id: str, asset: AssetRow, start: datetime, end: datetime, seed: int, *, max_rows: int
) -> list[StatusRow]:
    """Return the asset's status reports over [start, end], one per report interval, at most max_rows.

    Reports are thinned evenly, keeping the first and the last; the same arguments give the same rows.
    """
    spec = get_layer(layer_id).status
    model = MODELS.get(layer_id)
    if spec is None or model is None:
        raise ValueError(f"layer {layer_id!r} has no live status")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if end < start:
        raise ValueError("end must not be before start")
    start_utc = start.astimezone(UTC)
    steps = sample_offsets(end - start, spec.report_every, max_rows)
    epoch_s = start_utc.timestamp() + np.array(steps, dtype=np.float64) * spec.report_every.total_seconds()
    series = model(rng_for(seed, "history", layer_id, asset.external_id), epoch_s, asset, seed)
    values = [None if math.isnan(v) else v for v in series.values.tolist()]
    return [
        StatusRow(status, value, start_utc + spec.report_every * k, details)
        for status, value, k, details in zip(series.statuses, values, steps, series.details, strict=True)
    ]
