"""The demo city as loaded: assets inside the districts, stations on their rivers, live status, rasters."""

from __future__ import annotations

from pathlib import Path

import rasterio
from sqlalchemy import Connection, text

from layers.demo.generate import layer_counts


def test_each_layer_has_its_demo_count(conn: Connection) -> None:
    counts = dict(
        conn.execute(text("SELECT layer_id, count(*) FROM assets WHERE demo GROUP BY layer_id")).all()
    )
    for layer_id, expected in layer_counts(1).items():
        assert counts[layer_id] == expected, layer_id
    assert counts["districts"] == 5


def test_every_asset_lies_inside_a_district(conn: Connection) -> None:
    outside = conn.execute(
        text(
            "WITH city AS (SELECT ST_Union(geom) AS g FROM assets WHERE layer_id = 'districts') "
            "SELECT count(*) FROM assets a, city WHERE a.layer_id IN "
            "('cctv','taxpayers','dumping_points','das_stations','traffic_junctions','city_apps') "
            "AND NOT ST_Covers(city.g, a.geom)"
        )
    ).scalar_one()
    assert outside == 0


def test_each_das_station_lies_on_its_river(conn: Connection) -> None:
    rows = conn.execute(
        text(
            "SELECT s.external_id, ST_Distance(s.geom::geography, r.geom::geography) FROM assets s "
            "JOIN assets r ON r.layer_id = 'rivers' AND r.external_id = s.properties->>'river_code' "
            "WHERE s.layer_id = 'das_stations'"
        )
    ).all()
    assert len(rows) == layer_counts(1)["das_stations"]
    assert all(distance < 1.0 for _, distance in rows), rows


def test_every_live_asset_has_a_latest_status_and_history(conn: Connection) -> None:
    missing = conn.execute(
        text(
            "SELECT count(*) FROM assets a JOIN layers l ON l.id = a.layer_id "
            "WHERE l.statuses IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM asset_status s WHERE s.asset_id = a.id)"
        )
    ).scalar_one()
    history = conn.execute(text("SELECT count(DISTINCT asset_id) FROM observations")).scalar_one()
    assert missing == 0
    assert history == sum(layer_counts(1).values())


def test_latest_status_is_the_newest_observation(conn: Connection) -> None:
    mismatched = conn.execute(
        text(
            "SELECT count(*) FROM asset_status s WHERE s.observed_at <> "
            "(SELECT max(o.observed_at) FROM observations o WHERE o.asset_id = s.asset_id)"
        )
    ).scalar_one()
    assert mismatched == 0


def test_rasters_are_registered_and_readable(conn: Connection) -> None:
    rows = conn.execute(
        text("SELECT id, path, width, height FROM raster_sources WHERE demo ORDER BY id")
    ).all()
    assert [r.id for r in rows] == ["dem", "flood_hazard"]
    for row in rows:
        with rasterio.open(Path(row.path)) as src:
            assert (src.width, src.height) == (row.width, row.height)
            assert src.crs.to_epsg() == 4326


def test_camera_footprints_contain_their_camera(conn: Connection) -> None:
    bad = conn.execute(
        text("SELECT count(*) FROM assets WHERE layer_id = 'cctv' AND NOT ST_Covers(footprint, geom)")
    ).scalar_one()
    assert bad == 0
