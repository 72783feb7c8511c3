"""The `kendali:*` members of a stored layer's description that the dashboard builds on.

Both come from the catalog, so that the dashboard names no layer: `kendali:status` (only on layers with
live status) gives the status vocabulary and which statuses the layer's declared alert rules count as
wrong, for the KPI strip; `kendali:searchKeys` gives the identifier properties a search matches exactly.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from layers.access.policy import property_visibility
from layers.alerts.rules import RULES, ScopeKind
from layers.catalog.spec import LayerSpec, StatusSpec, Storage


def collection_members(layer: LayerSpec, lang: str) -> dict[str, Any]:
    """Return the `kendali:status` (live layers only) and `kendali:searchKeys` members of a layer."""
    members: dict[str, Any] = {"kendali:searchKeys": search_keys(layer)}
    if layer.status is not None and layer.storage is Storage.ASSETS:
        members["kendali:status"] = live_status(layer.id, layer.status, lang)
    return members


def live_status(layer_id: str, status: StatusSpec, lang: str) -> dict[str, Any]:
    """Describe a layer's live status: its values in declared order, their labels, and its alarms.

    `alarm` lists the statuses that a declared rule on the whole layer watches (in vocabulary order, so
    the last is the worst); `alarmStale` says whether an asset that stopped reporting counts as well.
    """
    rules = [r for r in RULES.values() if r.layer_id == layer_id and r.scope.kind is ScopeKind.ALL]
    watched = {s for r in rules for s in r.condition.statuses}
    return {
        "values": list(status.values),
        "labels": {
            value: status.labels[value].pick(lang) for value in status.values if value in status.labels
        },
        "unit": status.unit,
        "valueLabel": status.value_label.pick(lang) if status.value_label else None,
        "alarm": [value for value in status.values if value in watched],
        "alarmStale": any(r.condition.include_stale for r in rules),
    }


def search_keys(layer: LayerSpec) -> list[str]:
    """Return the identifier properties of a layer: required strings of a declared form, seen by all readers.

    A NOP, an application or district code: what someone types in full, so a search matches it exactly.
    """
    keys = _SEARCH_KEYS.get(layer.properties)
    if keys is None:  # building the JSON schema takes a while; the declarations never change
        keys = _SEARCH_KEYS[layer.properties] = _identifiers(layer)
    return list(keys)


_SEARCH_KEYS: dict[type[BaseModel], tuple[str, ...]] = {}


def _identifiers(layer: LayerSpec) -> tuple[str, ...]:
    schema = layer.properties.model_json_schema()
    required = set(schema.get("required", ()))
    shown = {name for name, visible in property_visibility(layer).items() if visible is None}
    return tuple(
        name
        for name, prop in schema.get("properties", {}).items()
        if name in required and name in shown and prop.get("type") == "string" and "pattern" in prop
    )
