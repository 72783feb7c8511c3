"""Writes to editable layers: policy, validation, versions, audit, history and races."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, func, select

from layers.access.policy import ANONYMOUS, Principal, principal_for
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec
from layers.editing.edits import (
    area_history,
    create_feature,
    current_version,
    delete_feature,
    merge_patch,
    replace_feature,
    restore_area,
    update_feature,
)
from layers.errors import (
    Conflict,
    FeatureNotFound,
    Forbidden,
    InvalidGeometryError,
    InvalidInput,
    LayerNotFound,
    PreconditionFailed,
)
from layers.tables import areas, assets, audit_log

BPBD = principal_for("bayu", ["bpbd-editor"], kind="user")
DLHP = principal_for("dewi", ["dlhp-editor"], kind="user")
KOMINFO = principal_for("kiki", ["kominfo-editor"], kind="user")
AREAS = LAYERS["response_areas"]
TPS = LAYERS["dumping_points"]
CCTV = LAYERS["cctv"]
SQUARE = [[128.17, -3.71], [128.19, -3.71], [128.19, -3.69], [128.17, -3.69], [128.17, -3.71]]


def area(name: str = "Banjir Batu Merah", **props: Any) -> dict[str, Any]:
    properties = {"name": name, "hazard": "banjir", **props}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
        "properties": properties,
    }


def tps(name: str = "TPS Mardika", **props: Any) -> dict[str, Any]:
    properties = {"name": name, "tps_type": "kontainer", "capacity_m3": 6, **props}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [128.18, -3.70]},
        "properties": properties,
    }


def stored(conn: Connection, layer: LayerSpec, feature_id: int) -> tuple[Any, ...]:
    """Return what a failed write must leave untouched: the row and the feature's audit trail."""
    table = areas if layer is AREAS else assets
    cols = (table.c.version, table.c.name, table.c.properties, func.ST_AsEWKB(table.c.geom))
    row = conn.execute(select(*cols).where(table.c.id == feature_id)).one()
    audits = conn.execute(select(func.count()).where(audit_log.c.target_id == str(feature_id))).scalar()
    return (*row, audits)


def audit_rows(conn: Connection, table: str, feature_id: int) -> list[Any]:
    stmt = (
        select(audit_log)
        .where(audit_log.c.target == table, audit_log.c.target_id == str(feature_id))
        .order_by(audit_log.c.id)
    )
    return list(conn.execute(stmt).all())


def test_create_area_sets_owner_author_and_first_version(conn: Connection) -> None:
    written = create_feature(conn, AREAS, BPBD, area())
    row = conn.execute(select(areas).where(areas.c.id == written.id)).one()
    assert written.version == row.version == 1
    assert (row.agency, row.created_by, row.updated_by) == ("bpbd", "bayu", "bayu")
    assert row.properties["state"] == "draft" and row.name == "Banjir Batu Merah"


def test_create_asset_generates_external_id_and_ignores_body_id(conn: Connection) -> None:
    written = create_feature(conn, TPS, DLHP, {**tps(), "id": 1})
    row = conn.execute(select(assets).where(assets.c.id == written.id)).one()
    assert re.fullmatch(r"dumping_points-[0-9a-f]{8}", row.external_id)
    assert row.agency == "dlhp" and "name" not in row.properties and written.id != 1


def test_external_id_clash_is_a_conflict(conn: Connection) -> None:
    create_feature(conn, TPS, DLHP, tps(external_id="TPS-TEST-1"))
    with pytest.raises(Conflict, match="TPS-TEST-1"):
        create_feature(conn, TPS, DLHP, tps("Other", external_id="TPS-TEST-1"))


@pytest.mark.parametrize("field", ["id", "agency", "created_at", "updated_by", "deleted_at", "demo"])
def test_server_owned_fields_are_refused(conn: Connection, field: str) -> None:
    before = conn.execute(select(func.count()).select_from(assets)).scalar()
    with pytest.raises(InvalidInput, match=field):
        create_feature(conn, TPS, DLHP, tps(**{field: "x"}))
    assert conn.execute(select(func.count()).select_from(assets)).scalar() == before


@pytest.mark.parametrize("name", [None, "", "   ", "x" * 201, 7])
def test_name_is_required_text(conn: Connection, name: object) -> None:
    with pytest.raises(InvalidInput, match="name"):
        create_feature(conn, AREAS, BPBD, area(name))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("principal", "layer_id", "error"),
    [
        (ANONYMOUS, "dumping_points", Forbidden),
        (BPBD, "dumping_points", Forbidden),
        (DLHP, "response_areas", Forbidden),
        (DLHP, "taxpayers", LayerNotFound),
        (ANONYMOUS, "response_areas", LayerNotFound),
    ],
    ids=["anonymous", "other-agency", "reader-not-editor", "hidden", "anonymous-internal"],
)
def test_callers_without_edit_rights_are_refused(
    conn: Connection, principal: Principal, layer_id: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        create_feature(conn, LAYERS[layer_id], principal, tps())


def test_replace_bumps_version_and_audits_before_and_after(conn: Connection) -> None:
    written = create_feature(conn, AREAS, BPBD, area())
    replaced = replace_feature(conn, AREAS, BPBD, written.id, area("Longsor Soya", hazard="longsor"), 1)
    assert replaced.version == 2
    create, replace = audit_rows(conn, "areas", written.id)
    assert (create.action, create.before, create.after["version"]) == ("create", None, 1)
    assert replace.action == "replace" and replace.actor == "bayu" and replace.layer_id == "response_areas"
    assert replace.before["name"] == "Banjir Batu Merah" and replace.after["name"] == "Longsor Soya"
    assert (
        replace.after["geometry"]["type"] == "Polygon" and replace.after["properties"]["hazard"] == "longsor"
    )


def test_update_merges_properties_and_keeps_the_rest(conn: Connection) -> None:
    written = create_feature(conn, TPS, DLHP, tps(address="Jl. Pantai", collection_route="R1"))
    geom_before = stored(conn, TPS, written.id)[3]
    patch = {"properties": {"address": None, "capacity_m3": 9}}
    assert update_feature(conn, TPS, DLHP, written.id, patch, None).version == 2
    row = conn.execute(select(assets).where(assets.c.id == written.id)).one()
    assert row.properties["capacity_m3"] == 9 and row.properties["collection_route"] == "R1"
    assert row.properties["address"] is None and row.name == "TPS Mardika"
    assert stored(conn, TPS, written.id)[3] == geom_before


def test_update_replaces_geometry_when_given(conn: Connection) -> None:
    written = create_feature(conn, TPS, DLHP, tps())
    patch = {"geometry": {"type": "Point", "coordinates": [128.2, -3.68]}}
    update_feature(conn, TPS, DLHP, written.id, patch, 1)
    xy = conn.execute(
        select(func.ST_X(assets.c.geom), func.ST_Y(assets.c.geom)).where(assets.c.id == written.id)
    )
    assert xy.one() == (128.2, -3.68)


def test_delete_asset_removes_row_and_audit_keeps_last_state(conn: Connection) -> None:
    written = create_feature(conn, TPS, DLHP, tps())
    delete_feature(conn, TPS, DLHP, written.id, 1)
    assert conn.execute(select(assets.c.id).where(assets.c.id == written.id)).first() is None
    last = audit_rows(conn, "assets", written.id)[-1]
    assert last.action == "delete" and last.after is None and last.before["name"] == "TPS Mardika"


def test_deleted_area_is_in_history_and_restorable(conn: Connection) -> None:
    written = create_feature(conn, AREAS, BPBD, area())
    delete_feature(conn, AREAS, BPBD, written.id, 1)
    with pytest.raises(FeatureNotFound):
        current_version(conn, AREAS, written.id)
    history = area_history(conn, AREAS, written.id)
    assert [(v["version"], v["deleted"]) for v in history] == [(2, True), (1, False)]
    assert history[0]["changed_by"] == "bayu" and history[0]["geometry"]["type"] == "Polygon"
    assert restore_area(conn, AREAS, BPBD, written.id).version == 3
    assert current_version(conn, AREAS, written.id) == 3
    assert [a.action for a in audit_rows(conn, "areas", written.id)] == ["create", "delete", "restore"]


def test_restoring_a_live_area_is_a_conflict(conn: Connection) -> None:
    written = create_feature(conn, AREAS, BPBD, area())
    with pytest.raises(Conflict):
        restore_area(conn, AREAS, BPBD, written.id)


@pytest.mark.parametrize("op", ["replace", "update", "delete"])
def test_stale_if_match_changes_nothing(conn: Connection, op: str) -> None:
    written = create_feature(conn, AREAS, BPBD, area())
    update_feature(conn, AREAS, BPBD, written.id, {"properties": {"notes": "v2"}}, 1)
    before = stored(conn, AREAS, written.id)
    with pytest.raises(PreconditionFailed, match="current version is 2"):
        if op == "replace":
            replace_feature(conn, AREAS, BPBD, written.id, area("New"), 1)
        elif op == "update":
            update_feature(conn, AREAS, BPBD, written.id, {"properties": {"notes": "v3"}}, 1)
        else:
            delete_feature(conn, AREAS, BPBD, written.id, 1)
    assert stored(conn, AREAS, written.id) == before


BAD_GEOMETRIES = {
    "self-intersection": (
        {
            "type": "Polygon",
            "coordinates": [[[128.1, -3.7], [128.2, -3.6], [128.2, -3.7], [128.1, -3.6], [128.1, -3.7]]],
        },
        "invalid",
    ),
    "wrong-type": ({"type": "Point", "coordinates": [128.18, -3.7]}, "wrong_type"),
    "out-of-range": (
        {"type": "Polygon", "coordinates": [[[128.1, -3.7], [128.2, 95], [128.2, -3.7], [128.1, -3.7]]]},
        "out_of_range",
    ),
    "unclosed-ring": (
        {"type": "Polygon", "coordinates": [[[128.1, -3.7], [128.2, -3.6], [128.2, -3.7], [128.1, -3.65]]]},
        "ring_not_closed",
    ),
}


@pytest.mark.parametrize(("geometry", "reason"), BAD_GEOMETRIES.values(), ids=BAD_GEOMETRIES.keys())
def test_bad_geometry_is_refused_and_row_unchanged(conn: Connection, geometry: Any, reason: str) -> None:
    written = create_feature(conn, AREAS, BPBD, area())
    before = stored(conn, AREAS, written.id)
    with pytest.raises(InvalidGeometryError) as caught:
        replace_feature(conn, AREAS, BPBD, written.id, {**area(), "geometry": geometry}, None)
    assert caught.value.details["reason"] == reason
    assert stored(conn, AREAS, written.id) == before


def test_camera_footprint_follows_view_direction(conn: Connection) -> None:
    camera = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [128.18, -3.70]},
        "properties": {
            "name": "Cam A",
            "camera_id": "T-1",
            "view_direction_deg": 0,
            "fov_deg": 60,
            "range_m": 100,
        },
    }
    written = create_feature(conn, CCTV, KOMINFO, camera)
    centre_lat = select(func.ST_Y(func.ST_Centroid(assets.c.footprint))).where(assets.c.id == written.id)
    assert conn.execute(centre_lat).scalar_one() > -3.70
    update_feature(conn, CCTV, KOMINFO, written.id, {"properties": {"view_direction_deg": 180}}, 1)
    assert conn.execute(centre_lat).scalar_one() < -3.70


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": None, "z": 3}}, {"a": {"x": 1, "z": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
        ({"a": 1}, {"b": {"c": None}}, {"a": 1, "b": {}}),
        ({"a": 1}, ["x"], ["x"]),
    ],
)
def test_merge_patch_follows_rfc_7396(target: object, patch: object, expected: object) -> None:
    assert merge_patch(target, patch) == expected


def test_two_writers_with_the_same_version_exactly_one_wins(engine: Engine) -> None:
    with engine.begin() as setup:
        feature_id = create_feature(setup, TPS, DLHP, tps("Race")).id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(capacity: int) -> None:
        with engine.connect() as own:
            barrier.wait()
            try:
                update_feature(own, TPS, DLHP, feature_id, {"properties": {"capacity_m3": capacity}}, 1)
                own.commit()
                outcomes.append("won")
            except PreconditionFailed:
                outcomes.append("412")

    try:
        threads = [threading.Thread(target=write, args=(n,)) for n in (7, 8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["412", "won"]
        with engine.connect() as check:
            assert current_version(check, TPS, feature_id) == 2
    finally:
        with engine.begin() as cleanup:
            cleanup.execute(delete(audit_log).where(audit_log.c.target_id == str(feature_id)))
            cleanup.execute(delete(assets).where(assets.c.id == feature_id))
