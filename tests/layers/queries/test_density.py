"""The density roll-up against geopandas/shapely counts on the raw rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely import wkb
from sqlalchemy import Connection, func, select

from layers.access.policy import Principal, principal_for
from layers.catalog import LAYERS
from layers.errors import InvalidInput
from layers.queries.catalog.density import QUERIES
from layers.queries.params import parse_params
from layers.queries.spec import QueryContext
from layers.tables import asset_status, assets

SPEC = QUERIES[0]
KOMINFO = principal_for("cc", ["kominfo-operator"], kind="user")
DLHP = principal_for("tps", ["dlhp-operator"], kind="user")
BPPRD = principal_for("pajak", ["bpprd-operator"], kind="user")
TO_UTM = Transformer.from_crs(4326, 32752, always_xy=True)
UNIT_LAYER = {"kecamatan": "districts", "kelurahan": "villages", "basin": "river_basins"}


def _run(
    conn: Connection, values: Mapping[str, Any], now: datetime, principal: Principal = KOMINFO
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    answer = SPEC.build(QueryContext(conn, principal, now), parse_params(SPEC.params, values))
    stmt = answer.statement.subquery()
    rows = conn.execute(select(stmt, func.ST_AsBinary(stmt.c.geom).label("wkb"))).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows])
    frame["shape"] = [wkb.loads(bytes(b)) for b in frame.wkb]
    return frame.set_index("id"), tuple(c.name for c in answer.columns)


def _raw_features(conn: Connection, layer_id: str, now: datetime) -> gpd.GeoDataFrame:
    """The layer's features with status and staleness computed here from the raw rows."""
    stmt = (
        select(
            assets.c.id,
            func.ST_AsBinary(assets.c.geom).label("wkb"),
            asset_status.c.status,
            asset_status.c.observed_at,
        )
        .select_from(assets.outerjoin(asset_status, asset_status.c.asset_id == assets.c.id))
        .where(assets.c.layer_id == layer_id)
    )
    frame = pd.DataFrame(conn.execute(stmt).mappings().all())
    status = LAYERS[layer_id].status
    if status is not None:
        frame["stale"] = frame.observed_at.isna() | (frame.observed_at < now - status.stale_after)
    geoms = [wkb.loads(bytes(b)) for b in frame.pop("wkb")]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)


def _raw_units(conn: Connection, layer_id: str) -> gpd.GeoDataFrame:
    stmt = select(assets.c.id, assets.c.name, func.ST_AsBinary(assets.c.geom).label("wkb")).where(
        assets.c.layer_id == layer_id
    )
    frame = pd.DataFrame(conn.execute(stmt).mappings().all())
    geoms = [wkb.loads(bytes(b)) for b in frame.pop("wkb")]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=4326).rename(columns={"id": "unit_id"})


def _expected_counts(
    units: gpd.GeoDataFrame, features: gpd.GeoDataFrame, statuses: tuple[str, ...]
) -> pd.DataFrame:
    """Count features per unit with a geopandas intersects join; every unit listed, empty ones zero."""
    joined = gpd.sjoin(units, features, predicate="intersects", how="inner")
    out = pd.DataFrame(index=units.unit_id)
    out["count"] = joined.groupby("unit_id").size()
    for value in statuses:
        fresh = joined[(joined.status == value) & ~joined.stale]
        out[f"count_{value}"] = fresh.groupby("unit_id").size()
    if statuses:
        out["stale"] = joined[joined.stale].groupby("unit_id").size()
    return out.fillna(0).astype(int)


def _utm_area_km2(geom: shapely.Geometry) -> float:
    return float(shapely.transform(geom, lambda xy: np.column_stack(TO_UTM.transform(*xy.T))).area) / 1e6


@pytest.mark.parametrize("by", ["kecamatan", "kelurahan", "basin"])
def test_counts_per_unit_match_geopandas(conn: Connection, by: str) -> None:
    now = datetime.now(UTC)
    got, columns = _run(conn, {"layer": "cctv", "by": by}, now)
    statuses = LAYERS["cctv"].status.values  # type: ignore[union-attr]
    assert columns == ("unit_name", "count", *(f"count_{s}" for s in statuses), "per_km2", "stale")
    units = _raw_units(conn, UNIT_LAYER[by])
    expected = _expected_counts(units, _raw_features(conn, "cctv", now), statuses)
    assert got["count"].sum() > 0
    pd.testing.assert_frame_equal(
        got[list(expected.columns)].sort_index().astype(int), expected.sort_index(), check_names=False
    )
    assert (got["count"] == got[[f"count_{s}" for s in statuses]].sum(axis=1) + got["stale"]).all()
    names = units.set_index("unit_id").name
    assert (got.unit_name == names.loc[got.index]).all()


def test_density_is_count_per_square_kilometre(conn: Connection) -> None:
    now = datetime.now(UTC)
    got, _ = _run(conn, {"layer": "dumping_points", "by": "kecamatan"}, now)
    for _, row in got.iterrows():
        assert row.per_km2 == pytest.approx(row["count"] / _utm_area_km2(row["shape"]), rel=1e-3)


def test_layer_without_status_counts_lines_crossing_units(conn: Connection) -> None:
    now = datetime.now(UTC)
    got, columns = _run(conn, {"layer": "rivers", "by": "kecamatan"}, now)
    assert columns == ("unit_name", "count", "per_km2")
    expected = _expected_counts(_raw_units(conn, "districts"), _raw_features(conn, "rivers", now), ())
    assert got["count"].sum() > 0
    assert got["count"].sort_index().tolist() == expected["count"].sort_index().tolist()


@pytest.mark.parametrize(("layer", "size"), [("dumping_points", 500), ("cctv", 100), ("rivers", 2000)])
def test_hexagon_counts_match_shapely_per_returned_hexagon(conn: Connection, layer: str, size: int) -> None:
    now = datetime.now(UTC)
    got, _ = _run(conn, {"layer": layer, "by": "hexagon", "hex_size_m": str(size)}, now)
    features = _raw_features(conn, layer, now)
    tree = shapely.STRtree(features.geometry.to_numpy())
    assert got.index.is_unique and (got["count"] > 0).all()
    for _, row in got.iterrows():
        assert row["count"] == len(tree.query(row["shape"], predicate="intersects"))
        assert _utm_area_km2(row["shape"]) == pytest.approx(1.5 * 3**0.5 * size**2 / 1e6, rel=1e-3)
    # No non-empty cell is missing: every feature touches some returned hexagon.
    hexes = shapely.STRtree(got["shape"].to_numpy())
    assert all(len(hexes.query(g, predicate="intersects")) for g in features.geometry)


def test_hexagon_ids_are_stable(conn: Connection) -> None:
    now = datetime.now(UTC)
    first, _ = _run(conn, {"layer": "cctv", "by": "hexagon", "hex_size_m": "100"}, now)
    second, _ = _run(conn, {"layer": "cctv", "by": "hexagon", "hex_size_m": "100"}, now)
    assert sorted(first.index) == sorted(second.index)
    for hex_id, name in first.unit_name.items():
        i, j = (int(n) for n in name.removeprefix("H ").split(","))
        assert hex_id == i * 1_000_000 + j


def test_status_filter_counts_only_that_status(conn: Connection) -> None:
    now = datetime.now(UTC)
    got, _ = _run(conn, {"layer": "dumping_points", "by": "kelurahan", "status": "full"}, now)
    features = _raw_features(conn, "dumping_points", now)
    units = _raw_units(conn, "villages")
    expected = _expected_counts(units, features[features.status == "full"], ("full",))
    assert expected["count"].sum() > 0
    assert got["count"].sort_index().tolist() == expected["count"].sort_index().tolist()
    assert (got.count_empty + got.count_half + got.count_overflow == 0).all()


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"layer": "cctv", "status": "burning"}, "status"),
        ({"layer": "rivers", "status": "online"}, "status"),
        ({"layer": "no_such_layer"}, "layer"),
    ],
)
def test_bad_layer_or_status_is_refused(conn: Connection, values: dict[str, str], name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _run(conn, values, datetime.now(UTC))
    assert caught.value.message_en.startswith(f"{name}: ")
    assert caught.value.message_id.startswith(f"{name}: ")


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({}, "layer"),
        ({"layer": "cctv", "by": "province"}, "by"),
        ({"layer": "cctv", "by": "hexagon", "hex_size_m": "50"}, "hex_size_m"),
        ({"layer": "cctv", "hex_size_m": "big"}, "hex_size_m"),
        ({"layer": "x" * 65}, "layer"),
    ],
)
def test_bad_parameters_are_refused_in_both_languages(values: dict[str, str], name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_params(SPEC.params, values)
    assert caught.value.message_en.startswith(f"{name}: ")
    assert caught.value.message_id.startswith(f"{name}: ")
    assert caught.value.message_en != caught.value.message_id


def test_taxpayers_density_is_hidden_from_other_agencies(conn: Connection) -> None:
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput) as hidden:
        _run(conn, {"layer": "taxpayers"}, now, DLHP)
    with pytest.raises(InvalidInput) as missing:
        _run(conn, {"layer": "taxpayerz"}, now, DLHP)
    # Same words as for a layer that does not exist: the answer does not tell that it exists.
    assert hidden.value.message_en == missing.value.message_en.replace("taxpayerz", "taxpayers")
    assert hidden.value.message_id == missing.value.message_id.replace("taxpayerz", "taxpayers")
    got, _ = _run(conn, {"layer": "taxpayers"}, now, BPPRD)
    assert got["count"].sum() > 0
