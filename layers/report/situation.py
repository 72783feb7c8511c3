"""The situation report's content: features and status counts of chosen layers in a view or an area."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

from geo.bbox import BBox
from layers.access.policy import Principal, field_view, layer_for, readable_layers
from layers.catalog.spec import LayerSpec
from layers.errors import FeatureNotFound, InvalidInput
from layers.features.pages import FeatureQuery, fetch_feature, fetch_page
from layers.features.queryables import queryables
from layers.live.counts import StatusCounts, status_counts
from layers.tables import areas

AREA_LAYER = "response_areas"
MAX_LAYERS = 20
MAX_FEATURES = 5000  # per layer; a report past this says so instead of growing without bound
SHOWN = ("name", "external_id", "status", "status_value", "status_unit", "observed_at", "stale")


@dataclass(frozen=True, slots=True)
class ReportLayer:
    """One layer of a report: its features (GeoJSON dicts) and its counts in the report's extent."""

    spec: LayerSpec
    features: list[dict[str, Any]]
    counts: StatusCounts
    truncated: bool


@dataclass(frozen=True, slots=True)
class Situation:
    """Everything a situation report shows."""

    bbox: BBox
    area: dict[str, Any] | None  # the response area as a GeoJSON feature, when the report is of one
    layers: list[ReportLayer]
    generated_at: datetime
    author: str


def default_layers(principal: Principal) -> list[str]:
    """Return the layers a report shows when none are chosen: every visible layer with live status."""
    return [s.id for s in readable_layers(principal) if s.has_status]


def _chosen(principal: Principal, layer_ids: Sequence[str]) -> list[LayerSpec]:
    if not layer_ids or len(layer_ids) > MAX_LAYERS:
        raise InvalidInput(
            f"choose 1..{MAX_LAYERS} layers", f"pilih 1..{MAX_LAYERS} lapisan", parameter="layers"
        )
    return [layer_for(principal, layer_id) for layer_id in dict.fromkeys(layer_ids)]


def _area(conn: Connection, principal: Principal, area_id: int) -> dict[str, Any]:
    layer = layer_for(principal, AREA_LAYER)
    text = fetch_feature(conn, layer, field_view(principal, layer), area_id, FeatureQuery())
    if text is None:
        raise FeatureNotFound(AREA_LAYER, area_id)
    feature: dict[str, Any] = json.loads(text)
    return feature


def _in_area(layer: LayerSpec, principal: Principal, area_id: int) -> ColumnElement[bool]:
    geom = queryables(layer, field_view(principal, layer))["geometry"].expr
    area_geom = select(areas.c.geom).where(areas.c.id == area_id, areas.c.deleted_at.is_(None))
    return func.ST_Intersects(geom, area_geom.scalar_subquery())


def _layer(
    conn: Connection, principal: Principal, layer: LayerSpec, bbox: BBox | None, area_id: int | None
) -> ReportLayer:
    view = field_view(principal, layer)
    where = (_in_area(layer, principal, area_id),) if area_id is not None else ()
    select_ = tuple(n for n in SHOWN if n in queryables(layer, view) or n == "stale")
    query = FeatureQuery(limit=MAX_FEATURES + 1, bbox=bbox, filters=where, select=select_)
    features = json.loads(fetch_page(conn, layer, view, query).features_json)
    counts = status_counts(conn, layer, bbox, where)
    return ReportLayer(layer, features[:MAX_FEATURES], counts, len(features) > MAX_FEATURES)


def gather_situation(
    conn: Connection,
    principal: Principal,
    layer_ids: Sequence[str],
    *,
    bbox: BBox | None = None,
    area_id: int | None = None,
    now: datetime,
) -> Situation:
    """Collect the chosen layers in a bbox or a response area, as the caller may see them."""
    if (bbox is None) == (area_id is None):
        raise InvalidInput("give either bbox or area", "berikan bbox atau area (salah satu)")
    chosen = _chosen(principal, layer_ids)
    area = _area(conn, principal, area_id) if area_id is not None else None
    extent: BBox = bbox if bbox is not None else tuple(shapely.bounds(shape(area["geometry"])))  # type: ignore[index]
    report_layers = [_layer(conn, principal, spec, bbox, area_id) for spec in chosen]
    return Situation(extent, area, report_layers, now, principal.name)
