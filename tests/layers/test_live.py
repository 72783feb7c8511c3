"""What the live stream may carry to whom: events read by id, enriched, and cut by the caller's policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, text

from layers.access.policy import ANONYMOUS, Principal, principal_for
from layers.errors import LayerNotFound
from layers.live.events import record_event
from layers.live.stream import LiveEvent, enrich, events_by_ids, shaped_json, stream_view

OPERATOR = principal_for("key:tb", ["bpprd-operator"], kind="key")
ANALYST = principal_for("u", ["bpprd-analyst"], kind="user")
NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _event(layer_id: str | None, payload: dict[str, object], type_: str = "status") -> LiveEvent:
    return LiveEvent(1, type_, layer_id, NOW, payload)


def _first_asset(conn: Connection, layer_id: str) -> int:
    return int(
        conn.execute(text("SELECT min(id) FROM assets WHERE layer_id = :l"), {"l": layer_id}).scalar_one()
    )


@pytest.mark.parametrize(("principal", "sees"), [(ANONYMOUS, False), (OPERATOR, True), (ANALYST, True)])
def test_taxpayers_events_reach_only_those_who_may_read_the_layer(principal: Principal, sees: bool) -> None:
    event = _event("taxpayers", {"ids": [1]})
    assert (stream_view(principal).cut(event) is not None) is sees


def test_asking_for_a_hidden_layer_is_like_asking_for_a_missing_one() -> None:
    with pytest.raises(LayerNotFound):
        stream_view(ANONYMOUS, ["dumping_points", "taxpayers"])


def test_narrowing_drops_events_of_other_layers() -> None:
    view = stream_view(ANONYMOUS, ["cctv"])
    assert view.cut(_event("cctv", {})) is not None and view.cut(_event("dumping_points", {})) is None


@pytest.mark.parametrize(("principal", "shows_value"), [(OPERATOR, False), (ANALYST, True)])
def test_taxpayers_amounts_are_cut_for_non_analysts(principal: Principal, shows_value: bool) -> None:
    event = _event("taxpayers", {"ids": [1], "assets": [{"id": 1, "status": "online", "value": 5e6}]})
    hidden = stream_view(principal).cut(event)
    assert hidden is not None
    asset = json.loads(shaped_json(event, hidden))["payload"]["assets"][0]
    assert ("value" in asset) is shows_value and asset["status"] == "online"


def test_an_alert_about_an_area_the_caller_cannot_see_is_hidden() -> None:
    internal_area = _event("cctv", {"alert_id": 1, "area_layer": "response_areas"}, "alert")
    public_area = _event("cctv", {"alert_id": 2, "area_layer": "districts"}, "alert")
    staff = principal_for("u", ["dlhp-viewer"], kind="user")
    assert (
        stream_view(ANONYMOUS).cut(internal_area) is None
        and stream_view(ANONYMOUS).cut(public_area) is not None
    )
    assert stream_view(staff).cut(internal_area) is not None


def test_events_without_a_layer_reach_administrators_only() -> None:
    event = _event(None, {"note": "maintenance"}, "system")
    admin = principal_for("root", ["admin"], kind="user")
    assert stream_view(ANONYMOUS).cut(event) is None and stream_view(admin).cut(event) == frozenset()


def test_events_are_read_back_by_the_ids_notifications_carry(conn: Connection) -> None:
    ids = [record_event(conn, "status", "cctv", {"ids": [n]}) for n in range(5)]
    found = events_by_ids(conn, [ids[4], ids[1], ids[1]])
    assert [(e.id, e.payload["ids"]) for e in found] == [(ids[1], [1]), (ids[4], [4])]


def test_a_status_event_is_enriched_with_the_assets_current_state(conn: Connection) -> None:
    asset_id = _first_asset(conn, "dumping_points")
    event_id = record_event(conn, "status", "dumping_points", {"ids": [asset_id]})
    live = enrich(conn, events_by_ids(conn, [event_id]))[0]
    stored = conn.execute(text("SELECT status FROM asset_status WHERE asset_id = :a"), {"a": asset_id})
    assert live.payload["assets"][0]["id"] == asset_id
    assert live.payload["assets"][0]["status"] == stored.scalar_one()
    assert set(live.payload["assets"][0]) == {"id", "status", "value", "unit", "observed_at", "stale"}
