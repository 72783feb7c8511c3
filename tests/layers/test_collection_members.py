"""The `kendali:*` members the dashboard's KPI strip and search read: derived from the catalog alone."""

from __future__ import annotations

import pytest

from layers.access.policy import property_visibility
from layers.alerts.rules import RULES, ScopeKind
from layers.catalog import LAYERS
from layers.catalog.spec import Storage
from layers.collections.members import collection_members, search_keys


def test_only_live_asset_layers_describe_their_status() -> None:
    described = {i for i, spec in LAYERS.items() if "kendali:status" in collection_members(spec, "id")}
    assert described == {i for i, s in LAYERS.items() if s.status is not None and s.storage is Storage.ASSETS}


@pytest.mark.parametrize("layer_id", [i for i, s in LAYERS.items() if s.status is not None])
def test_alarm_statuses_are_those_of_the_whole_layer_rules_in_vocabulary_order(layer_id: str) -> None:
    live = collection_members(LAYERS[layer_id], "en")["kendali:status"]
    rules = [r for r in RULES.values() if r.layer_id == layer_id and r.scope.kind is ScopeKind.ALL]
    assert set(live["alarm"]) == {s for r in rules for s in r.condition.statuses}
    assert live["alarm"] == [v for v in live["values"] if v in live["alarm"]]
    assert live["alarmStale"] == any(r.condition.include_stale for r in rules)


def test_status_labels_follow_the_language() -> None:
    assert collection_members(LAYERS["das_stations"], "id")["kendali:status"]["labels"]["awas"] == "Awas"
    assert collection_members(LAYERS["das_stations"], "en")["kendali:status"]["labels"]["awas"] == "Danger"


@pytest.mark.parametrize(
    ("layer_id", "keys"), [("taxpayers", ["nop"]), ("city_apps", ["app_code"]), ("cctv", []), ("rivers", [])]
)
def test_search_keys_are_the_identifier_properties(layer_id: str, keys: list[str]) -> None:
    assert search_keys(LAYERS[layer_id]) == keys


def test_search_keys_never_name_a_property_some_readers_cannot_see() -> None:
    for spec in LAYERS.values():
        hidden = {n for n, v in property_visibility(spec).items() if v is not None}
        assert not hidden & set(search_keys(spec)), spec.id
