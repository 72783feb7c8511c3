"""The query-layer catalog: every question kendali answers as a layer, in one explicit list."""

from __future__ import annotations

from collections.abc import Mapping

from layers.catalog import LAYERS
from layers.queries.catalog import (
    cameras_seeing,
    density,
    flood_zones,
    in_area,
    proximity,
    tax_compliance,
    waste_clusters,
)
from layers.queries.spec import QuerySpec

_MODULES = (flood_zones, waste_clusters, in_area, proximity, cameras_seeing, density, tax_compliance)


def _index(specs: list[QuerySpec]) -> Mapping[str, QuerySpec]:
    out: dict[str, QuerySpec] = {}
    for spec in specs:
        if spec.id in out or spec.id in LAYERS:
            raise ValueError(f"duplicate collection id {spec.id!r}")
        out[spec.id] = spec
    return out


QUERIES: Mapping[str, QuerySpec] = _index([spec for module in _MODULES for spec in module.QUERIES])
