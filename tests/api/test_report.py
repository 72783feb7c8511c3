"""The situation report: one self-contained page (Leaflet inlined, nothing remote), policy-checked."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from layers.access.auth import create_key

VIEW = "128.15,-3.72,128.21,-3.68"
SQUARE = [[128.17, -3.71], [128.19, -3.71], [128.19, -3.69], [128.17, -3.69], [128.17, -3.71]]


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The shared in-process client (conftest), which serves every route."""
    return client


def key(session: Session, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(session.connection(), 'report-test', [role]).secret}"}


def report(api: TestClient, **kw: object) -> str:
    response = api.get("/report", **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def test_report_is_self_contained(api: TestClient) -> None:
    page = report(api, params={"bbox": VIEW, "layers": "cctv,dumping_points"})
    assert "L.map(" in page and "Leaflet" in page  # folium's map script and the inlined library
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']?(https?:)?//""", page)
    assert "cdn" not in page.lower()


def test_report_summary_counts_match_the_counts_endpoint(api: TestClient) -> None:
    page = report(api, params={"bbox": VIEW, "layers": "dumping_points"})
    total = api.get("/collections/dumping_points/counts", params={"bbox": VIEW}).json()["total"]
    assert re.search(rf"<td>Total</td><td>{total}</td>", page)
    assert "Titik pembuangan" in page or "TPS" in page


def test_report_of_a_response_area_names_it_escaped(api: TestClient, session: Session) -> None:
    editor = key(session, "bpbd-editor")
    area = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
        "properties": {"name": "Banjir <b>Batu Merah</b>", "hazard": "banjir"},
    }
    created = api.post("/collections/response_areas/items", json=area, headers=editor)
    assert created.status_code == 201, created.text
    page = report(api, params={"area": created.json()["id"], "layers": "cctv"}, headers=editor)
    assert "Banjir &lt;b&gt;Batu Merah&lt;/b&gt;" in page and "<b>Batu Merah</b>" not in page


def test_report_speaks_english_on_request(api: TestClient) -> None:
    page = report(api, params={"bbox": VIEW, "layers": "cctv", "lang": "en"})
    assert "Situation report" in page and "Laporan situasi" not in page


def test_default_report_hides_restricted_layers_from_anonymous(api: TestClient) -> None:
    page = report(api, params={"bbox": VIEW})
    assert "Kamera CCTV" in page and "Wajib pajak" not in page and "tapping" not in page.lower()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"bbox": VIEW, "layers": "taxpayers"}, 404),
        ({"layers": "cctv"}, 400),
        ({"bbox": VIEW, "area": 1, "layers": "cctv"}, 400),
        ({"area": 1, "layers": "cctv"}, 404),  # anonymous cannot see response areas
        ({"bbox": "1,2,3", "layers": "cctv"}, 400),
        ({"bbox": VIEW, "layers": ",".join(["cctv"] * 60)}, 400),
    ],
)
def test_bad_report_requests_are_refused(api: TestClient, params: dict[str, object], status: int) -> None:
    response = api.get("/report", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
