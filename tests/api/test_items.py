"""OGC API – Features items: paging, parameters, CRS, time travel, access, problem bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Connection, text

from layers.access.auth import create_key

ITEMS = "/collections/dumping_points/items"


def _next(body: dict[str, Any]) -> str | None:
    return next((lk["href"] for lk in body["links"] if lk["rel"] == "next"), None)


def test_items_are_geojson_with_live_status(client: TestClient) -> None:
    response = client.get(ITEMS, params={"limit": 5})
    body = response.json()
    assert response.headers["content-type"] == "application/geo+json"
    assert body["numberReturned"] == 5 and body["numberMatched"] == 300
    props = body["features"][0]["properties"]
    assert {"status", "status_value", "status_unit", "observed_at", "stale", "tps_type"} <= set(props)
    assert props["status"] in ("empty", "half", "full", "overflow")


def test_paging_by_next_links_reads_every_feature_once(client: TestClient) -> None:
    url: str | None = f"{ITEMS}?limit=70"
    seen: list[int] = []
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = _next(body)
    assert len(seen) == len(set(seen)) == 300


def test_paging_stays_correct_under_concurrent_inserts(client: TestClient, conn: Connection) -> None:
    first = client.get(ITEMS, params={"limit": 100}).json()
    conn.execute(
        text(
            "INSERT INTO assets (layer_id, external_id, name, geom, properties, agency) "
            "SELECT 'dumping_points', "
            "'NEW-' || g, 'new', ST_SetSRID(ST_MakePoint(128.18, -3.70), 4326), "
            '\'{"tps_type": "tps", "capacity_m3": 6}\', \'dlhp\' FROM generate_series(1, 30) g'
        )
    )
    seen = [f["id"] for f in first["features"]]
    url = _next(first)
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = _next(body)
    assert len(seen) == len(set(seen)) == 330


def test_prev_link_returns_the_earlier_page(client: TestClient) -> None:
    first = client.get(ITEMS, params={"limit": 10}).json()
    second = client.get(_next(first) or "").json()
    prev = next(lk["href"] for lk in second["links"] if lk["rel"] == "prev")
    assert [f["id"] for f in client.get(prev).json()["features"]] == [f["id"] for f in first["features"]]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "10001"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "1,2,nan,4"}, "bbox"),
        ({"bbox": "128.3,-3.7,128.1,-3.6"}, "bbox"),
        ({"bbox": "0,0,200,10"}, "bbox"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/9999"}, "crs"),
        ({"bbox-crs": "EPSG:27700", "bbox": "1,2,3,4"}, "bbox-crs"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2026-02-01T00:00:00Z/2026-01-01T00:00:00Z"}, "datetime"),
        ({"sortby": "secret"}, None),
        ({"properties": "nope"}, "properties"),
        ({"colour": "red"}, "colour"),
        ({"cursor": "x1"}, "cursor"),
        ({"filter": "capacity_m3 >"}, None),
        ({"filter": "nope = 1"}, None),
        ({"filter-lang": "sql", "filter": "1=1"}, "filter-lang"),
        ({"at": "not-a-time"}, "at"),
    ],
)
def test_bad_parameters_are_400_problems(
    client: TestClient, params: dict[str, str], parameter: str | None
) -> None:
    response = client.get(ITEMS, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["detail"] and "SELECT" not in body["detail"] and "Traceback" not in response.text
    if parameter:
        assert body.get("parameter") == parameter


def test_equality_filter_and_properties_selection(client: TestClient, conn: Connection) -> None:
    body = client.get(ITEMS, params={"tps_type": "depo", "properties": "name,tps_type", "limit": 1000}).json()
    expected = conn.execute(
        text(
            "SELECT count(*) FROM assets "
            "WHERE layer_id = 'dumping_points' AND properties->>'tps_type' = 'depo'"
        )
    ).scalar_one()
    assert body["numberMatched"] == expected == len(body["features"]) > 0
    assert all(set(f["properties"]) == {"name", "tps_type"} for f in body["features"])


def test_sortby_descending_orders_features(client: TestClient) -> None:
    body = client.get(ITEMS, params={"sortby": "-capacity_m3", "limit": 50}).json()
    capacities = [f["properties"]["capacity_m3"] for f in body["features"]]
    assert capacities == sorted(capacities, reverse=True)
    assert _next(body) and "offset=50" in (_next(body) or "")


def test_bbox_in_web_mercator_matches_crs84(client: TestClient) -> None:
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    x1, y1 = to_3857.transform(128.16, -3.72)
    x2, y2 = to_3857.transform(128.20, -3.68)
    crs84 = client.get(ITEMS, params={"bbox": "128.16,-3.72,128.20,-3.68", "limit": 1000}).json()
    merc = client.get(
        ITEMS,
        params={
            "bbox": f"{x1},{y1},{x2},{y2}",
            "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "limit": 1000,
        },
    ).json()
    assert {f["id"] for f in crs84["features"]} == {f["id"] for f in merc["features"]} != set()


@pytest.mark.parametrize("srid", [32752, 3857, 4755])
def test_output_crs_matches_pyproj(client: TestClient, srid: int) -> None:
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{srid}"
    plain = client.get(ITEMS, params={"limit": 3}).json()["features"]
    response = client.get(ITEMS, params={"limit": 3, "crs": uri})
    assert response.headers["content-crs"] == f"<{uri}>"
    to_target = Transformer.from_crs(
        4326, srid, always_xy=False
    )  # authority axis order, as the standard says
    for lonlat, projected in zip(plain, response.json()["features"], strict=True):
        lon, lat = lonlat["geometry"]["coordinates"]
        expected = to_target.transform(lat, lon)  # the 7-decimal lon/lat input carries ~1 cm of rounding
        got = projected["geometry"]["coordinates"]
        assert got == pytest.approx(list(expected), abs=0.02 if srid != 4755 else 1e-6)


def test_epsg_4326_output_is_lat_lon(client: TestClient) -> None:
    plain = client.get(ITEMS, params={"limit": 1}).json()["features"][0]["geometry"]["coordinates"]
    flipped = client.get(
        ITEMS, params={"limit": 1, "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}
    ).json()
    assert flipped["features"][0]["geometry"]["coordinates"] == [plain[1], plain[0]]


def test_time_travel_returns_status_at_that_instant(client: TestClient, conn: Connection) -> None:
    row = conn.execute(
        text(
            "SELECT o.asset_id, o.status, o.observed_at FROM observations o "
            "JOIN assets a ON a.id = o.asset_id "
            "WHERE a.layer_id = 'dumping_points' ORDER BY o.observed_at LIMIT 1 OFFSET 20"
        )
    ).one()
    at = (row.observed_at + timedelta(seconds=1)).isoformat()
    feature = client.get(f"{ITEMS}/{row.asset_id}", params={"at": at}).json()
    assert feature["properties"]["status"] == row.status
    assert datetime.fromisoformat(feature["properties"]["observed_at"]) == row.observed_at


def test_stale_asset_reads_as_stale(client: TestClient, conn: Connection) -> None:
    asset_id = conn.execute(
        text("SELECT id FROM assets WHERE layer_id = 'cctv' ORDER BY id LIMIT 1")
    ).scalar_one()
    conn.execute(
        text("UPDATE asset_status SET observed_at = now() - interval '1 hour' WHERE asset_id = :a"),
        {"a": asset_id},
    )
    assert client.get(f"/collections/cctv/items/{asset_id}").json()["properties"]["stale"] is True


def test_datetime_interval_filters_on_observed_at(client: TestClient) -> None:
    past = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    assert client.get(ITEMS, params={"datetime": f"../{past}"}).json()["numberMatched"] == 0
    assert client.get(ITEMS, params={"datetime": f"{past}/.."}).json()["numberMatched"] == 300


def test_restricted_collection_is_hidden_from_anonymous(client: TestClient) -> None:
    ids = {c["id"] for c in client.get("/collections").json()["collections"]}
    assert "taxpayers" not in ids
    assert client.get("/collections/taxpayers").status_code == 404
    assert client.get("/collections/taxpayers/items").status_code == 404


def test_taxpayer_amounts_only_for_analysts(client: TestClient, conn: Connection) -> None:
    analyst = create_key(conn, "a", ["bpprd-analyst"]).secret
    operator = create_key(conn, "o", ["bpprd-operator"]).secret
    seen = client.get(
        "/collections/taxpayers/items", params={"limit": 1}, headers={"Authorization": f"Bearer {analyst}"}
    ).json()["features"][0]["properties"]
    hidden = client.get(
        "/collections/taxpayers/items", params={"limit": 1}, headers={"Authorization": f"Bearer {operator}"}
    ).json()["features"][0]["properties"]
    assert "status_value" in seen and "tax_rate_pct" in seen
    assert (
        "status_value" not in hidden
        and "tax_rate_pct" not in hidden
        and hidden["status"] in ("online", "offline")
    )


def test_stream_url_hidden_from_anonymous(client: TestClient) -> None:
    props = client.get("/collections/cctv/items", params={"limit": 1}).json()["features"][0]["properties"]
    assert "stream_url" not in props and "camera_id" in props


def test_html_view_for_browsers(client: TestClient) -> None:
    response = client.get(ITEMS, params={"limit": 3}, headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html")
    assert "<table>" in response.text


def test_unknown_feature_is_404(client: TestClient) -> None:
    for fid in ("999999999", "abc"):
        assert client.get(f"{ITEMS}/{fid}").status_code == 404


def test_queryables_list_visible_properties(client: TestClient) -> None:
    props = client.get("/collections/cctv/queryables").json()["properties"]
    assert props["view_direction_deg"] == {"type": "number"} and "stream_url" not in props
    assert props["geometry"]["format"] == "geometry-point"


def test_openapi_document_describes_the_paths(client: TestClient) -> None:
    doc = client.get("/api").json()
    assert {"/collections", "/collections/{collection_id}/items", "/conformance"} <= set(doc["paths"])
