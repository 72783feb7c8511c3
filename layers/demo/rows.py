"""The rows the demo generator yields: one asset, and one status report of an asset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

DEMO_NOTE = (
    "Synthetic demo data: real place names of Kota Ambon on the real coastline (© OpenStreetMap "
    "contributors, ODbL), but every boundary, asset, attribute and reading is invented."
)


@dataclass(frozen=True, slots=True)
class AssetRow:
    """One demo asset: a point with properties valid for its layer's model."""

    external_id: str
    name: str
    lon: float
    lat: float
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One status report: a status of the layer's vocabulary, a value in its range, a UTC time."""

    status: str
    value: float | None
    observed_at: datetime
    details: dict[str, Any]
