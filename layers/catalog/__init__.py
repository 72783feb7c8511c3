"""The layer catalog: every layer kendali serves, in one explicit list."""

from __future__ import annotations

from collections.abc import Mapping

from layers.catalog import (
    cctv,
    city_apps,
    das_stations,
    districts,
    dumping_points,
    response_areas,
    river_basins,
    rivers,
    taxpayers,
    traffic_junctions,
    villages,
)
from layers.catalog.spec import LayerSpec
from layers.errors import LayerNotFound


def index_by_id(*specs: LayerSpec) -> Mapping[str, LayerSpec]:
    """Index layer specs by id; raise ValueError on a duplicate id."""
    out: dict[str, LayerSpec] = {}
    for spec in specs:
        if spec.id in out:
            raise ValueError(f"duplicate layer id {spec.id!r}")
        out[spec.id] = spec
    return out


LAYERS: Mapping[str, LayerSpec] = index_by_id(
    districts.LAYER,
    villages.LAYER,
    rivers.LAYER,
    river_basins.LAYER,
    cctv.LAYER,
    traffic_junctions.LAYER,
    dumping_points.LAYER,
    das_stations.LAYER,
    city_apps.LAYER,
    taxpayers.LAYER,
    response_areas.LAYER,
)


def get_layer(layer_id: str) -> LayerSpec:
    """Return the layer with this id, or raise LayerNotFound."""
    try:
        return LAYERS[layer_id]
    except KeyError:
        raise LayerNotFound(layer_id) from None
