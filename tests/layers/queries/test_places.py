"""The place a query is about: parsing, exactly-one rule, resolution to SQL, and hiding what is hidden."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import Connection, func, insert, select

from layers.access.policy import Principal, principal_for
from layers.errors import InvalidInput
from layers.queries.params import parse_params
from layers.queries.places import (
    AreaIdField,
    AssetField,
    DistrictField,
    GeometryField,
    PointField,
    degrees_bound,
    resolve_place,
)
from layers.queries.spec import QueryContext
from layers.tables import areas, assets

BPBD = principal_for("bpbd-op", ["bpbd-operator"], kind="user")
DLHP = principal_for("dlhp-op", ["dlhp-operator"], kind="user")
SQUARE = "POLYGON((128.17 -3.71,128.19 -3.71,128.19 -3.69,128.17 -3.69,128.17 -3.71))"


class AnyPlace(PointField, GeometryField, AreaIdField, DistrictField, AssetField):
    """Every kind of place, for these tests."""


def place_shape(conn: Connection, principal: Principal, values: dict[str, Any]) -> shapely.Geometry:
    """Resolve a place and read back its geometry from PostGIS."""
    params = parse_params(AnyPlace, values)
    assert isinstance(params, AnyPlace)
    place = resolve_place(QueryContext(conn, principal, datetime.now(UTC)), params)
    return shapely.from_wkb(conn.execute(select(func.ST_AsBinary(place.geom))).scalar_one())


def stored(conn: Connection, table: Any, row_id: int) -> shapely.Geometry:
    return shapely.from_wkb(
        conn.execute(select(func.ST_AsBinary(table.c.geom)).where(table.c.id == row_id)).scalar_one()
    )


def insert_area(conn: Connection, wkt: str, deleted: bool = False) -> int:
    area_id = conn.execute(
        insert(areas)
        .values(
            layer_id="response_areas",
            name="Banjir uji",
            geom=func.ST_GeomFromText(wkt, 4326),
            properties={"hazard": "banjir", "state": "active"},
            agency="bpbd",
            created_by="test",
            updated_by="test",
            deleted_at=func.now() if deleted else None,
        )
        .returning(areas.c.id)
    ).scalar_one()
    return int(area_id)


def first_asset(conn: Connection, layer_id: str) -> tuple[int, str]:
    row = conn.execute(
        select(assets.c.id, assets.c.external_id).where(assets.c.layer_id == layer_id).order_by(assets.c.id)
    ).first()
    assert row is not None
    return int(row.id), str(row.external_id)


def test_point_and_geometry_resolve_to_what_was_given(conn: Connection) -> None:
    assert place_shape(conn, BPBD, {"point": "128.18,-3.7"}).equals(shapely.Point(128.18, -3.7))
    assert place_shape(conn, BPBD, {"geometry": SQUARE}).equals(shapely.from_wkt(SQUARE))
    geojson = shapely.to_geojson(shapely.from_wkt(SQUARE))
    assert place_shape(conn, BPBD, {"geometry": geojson}).equals(shapely.from_wkt(SQUARE))


def test_stored_places_resolve_to_their_rows(conn: Connection) -> None:
    area_id = insert_area(conn, SQUARE)
    assert place_shape(conn, BPBD, {"area_id": str(area_id)}).equals(stored(conn, areas, area_id))
    district_id, code = first_asset(conn, "districts")
    assert place_shape(conn, BPBD, {"district": code}).equals(stored(conn, assets, district_id))
    assert place_shape(conn, BPBD, {"district": str(district_id)}).equals(stored(conn, assets, district_id))
    village_id, village_code = first_asset(conn, "villages")
    assert place_shape(conn, BPBD, {"district": village_code}).equals(stored(conn, assets, village_id))
    camera_id, _ = first_asset(conn, "cctv")
    assert place_shape(conn, BPBD, {"asset_id": camera_id}).equals(stored(conn, assets, camera_id))


@pytest.mark.parametrize("values", [{}, {"point": "128.18,-3.7", "asset_id": "5"}])
def test_zero_or_two_places_are_refused_in_both_languages(conn: Connection, values: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(AnyPlace, values)
    assert "exactly one place" in caught.value.message_en
    assert "tepat satu tempat" in caught.value.message_id


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"point": "200,0"}, "point"),
        ({"point": "abc"}, "point"),
        ({"area_id": "abc"}, "area_id"),
        ({"area_id": "0"}, "area_id"),
        ({"district": "x" * 65}, "district"),
        ({"geometry": "POLYGON((0 0,1 1,1 0,0 1,0 0))"}, "geometry"),
        ({"geometry": "not a geometry"}, "geometry"),
    ],
)
def test_bad_place_values_are_400s(values: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(AnyPlace, values)
    assert caught.value.details["parameter"] == name
    assert caught.value.message_en != caught.value.message_id


def test_hidden_asset_reads_like_a_missing_one(conn: Connection) -> None:
    taxpayer_id, _ = first_asset(conn, "taxpayers")
    missing_id = int(conn.execute(select(func.max(assets.c.id))).scalar_one()) + 1000
    with pytest.raises(InvalidInput) as hidden:
        place_shape(conn, DLHP, {"asset_id": taxpayer_id})
    with pytest.raises(InvalidInput) as missing:
        place_shape(conn, DLHP, {"asset_id": missing_id})
    assert hidden.value.message_en.replace(str(taxpayer_id), "N") == missing.value.message_en.replace(
        str(missing_id), "N"
    )
    assert "taxpayer" not in hidden.value.message_en.lower()


def test_deleted_or_unreadable_area_is_refused(conn: Connection) -> None:
    deleted_id = insert_area(conn, SQUARE, deleted=True)
    with pytest.raises(InvalidInput, match="no response area"):
        place_shape(conn, BPBD, {"area_id": deleted_id})
    area_id = insert_area(conn, SQUARE)
    scoped = principal_for("key", ["bpbd-operator"], kind="key", scope=["cctv"])
    with pytest.raises(InvalidInput, match="no response area"):
        place_shape(conn, scoped, {"area_id": area_id})


def test_unknown_district_and_a_non_district_asset_are_refused(conn: Connection) -> None:
    camera_id, camera_code = first_asset(conn, "cctv")
    for value in ("99.99.99", camera_code, str(camera_id)):
        with pytest.raises(InvalidInput) as caught:
            place_shape(conn, BPBD, {"district": value})
        assert caught.value.message_id.startswith("district:")


def test_degree_bound_holds_for_geodesics_in_every_direction() -> None:
    geod = Geod(ellps="WGS84")
    rng = np.random.default_rng(7)
    azimuths = np.arange(0, 360, 5.0)
    for _ in range(50):
        lon, lat = rng.uniform(-179, 179), rng.uniform(-80, 80)
        distance_m = float(rng.uniform(1, 50_000))
        starts = np.full(azimuths.shape, 1.0)
        ends_lon, ends_lat, _ = geod.fwd(starts * lon, starts * lat, azimuths, starts * distance_m)
        planar = np.hypot(ends_lon - lon, ends_lat - lat)
        assert planar.max() <= degrees_bound(distance_m, abs(lat))
        assert degrees_bound(distance_m, abs(lat)) < 1.1 * planar.max()  # safe, yet not loose
