"""What the live stream carries to whom: events as the write path recorded them, read by id, cut by policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text

from geo.tiles import TMS, TileKey
from layers.access.policy import ANONYMOUS, Principal, principal_for
from layers.errors import LayerNotFound
from layers.live.asset_events import MAX_DESCRIBED
from layers.live.events import Event, events_after, latest_event_id, record_event
from layers.live.staleness import check_staleness
from layers.live.status import StatusReport, write_reports
from layers.live.stream import events_by_ids, shaped_json, stream_view

OPERATOR = principal_for("key:tb", ["bpprd-operator"], kind="key")
ANALYST = principal_for("u", ["bpprd-analyst"], kind="user")
NOW = datetime(2025, 3, 1, tzinfo=UTC)


DLHP = principal_for("key:tps", ["dlhp-operator"], kind="key")


def _event(layer_id: str | None, payload: dict[str, object], type_: str = "status") -> Event:
    return Event(1, NOW, type_, layer_id, payload)


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


def _recorded(conn: Connection, after: int, type_: str) -> list[Event]:
    return [e for e in events_after(conn, after) if e.type == type_]


def test_a_status_write_records_each_asset_new_state_in_its_event(conn: Connection) -> None:
    asset_id, last = _first_asset(conn, "dumping_points"), latest_event_id(conn)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    write_reports(conn, DLHP, [StatusReport("full", at, "live-test", asset_id=asset_id, value=91.0)])
    (event,) = _recorded(conn, last, "status")
    assert event.payload["ids"] == [asset_id] and event.payload["truncated"] is False
    assert event.payload["assets"] == [
        {
            "id": asset_id,
            "status": "full",
            "value": 91.0,
            "unit": "%",
            "observed_at": at.isoformat(),
            "stale": False,
        }
    ]


def test_a_status_event_names_the_tiles_its_assets_touch(conn: Connection) -> None:
    asset_id, last = _first_asset(conn, "cctv"), latest_event_id(conn)
    lon, lat = conn.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM assets WHERE id = :a"), {"a": asset_id}
    ).one()
    at = datetime.now(UTC) + timedelta(seconds=1)
    write_reports(
        conn,
        principal_for("k", ["kominfo-operator"], kind="key"),
        [StatusReport("offline", at, "t", asset_id=asset_id)],
    )
    (event,) = _recorded(conn, last, "status")
    tile = TMS.tile(lon, lat, 17)
    assert str(TileKey(tile.z, tile.x, tile.y)) in event.payload["tiles"]["keys"]
    assert event.payload["tiles"]["exact_through"] == 22


def test_a_stale_event_carries_the_states_of_the_assets_it_names(conn: Connection) -> None:
    asset_id, last = _first_asset(conn, "dumping_points"), latest_event_id(conn)
    conn.execute(
        text("UPDATE asset_status SET observed_at = now() - interval '7 hours' WHERE asset_id = :a"),
        {"a": asset_id},
    )
    check_staleness(conn)
    stale = [e for e in _recorded(conn, last, "stale") if asset_id in e.payload["ids"]]
    states = {a["id"]: a for a in stale[0].payload["assets"]}
    assert states[asset_id]["stale"] is True and "tiles" in stale[0].payload
    assert len(stale[0].payload["assets"]) <= MAX_DESCRIBED
