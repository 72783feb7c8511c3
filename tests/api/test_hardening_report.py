"""The situation report of a view or an area where a chosen layer has nothing is a page, not a 500."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from layers.access.auth import create_key

SEA = "128.00,-3.30,128.01,-3.29"  # open water north of Ambon Island
SQUARE_AT_SEA = [[128.0, -3.3], [128.01, -3.3], [128.01, -3.29], [128.0, -3.29], [128.0, -3.3]]


@pytest.mark.parametrize("layers", ["cctv", "cctv,dumping_points", None])
def test_report_of_an_empty_view_has_empty_sections(client: TestClient, layers: str | None) -> None:
    params = {"bbox": SEA} | ({"layers": layers} if layers else {})
    response = client.get("/report", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert re.search(r"<td>Total</td><td>0</td>", response.text)
    assert "L.map(" in response.text


def test_report_of_an_area_with_nothing_inside_is_a_page(client: TestClient, session: Session) -> None:
    editor = {"Authorization": f"Bearer {create_key(session.connection(), 'rep', ['bpbd-editor']).secret}"}
    area = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [SQUARE_AT_SEA]},
        "properties": {"name": "Perairan utara", "hazard": "banjir"},
    }
    created = client.post("/collections/response_areas/items", json=area, headers=editor)
    assert created.status_code == 201, created.text
    params = {"area": created.json()["id"], "layers": "cctv,traffic_junctions", "lang": "en"}
    response = client.get("/report", params=params, headers=editor)
    assert response.status_code == 200, response.text
    assert "Perairan utara" in response.text
    assert len(re.findall(r"<td>Total</td><td>0</td>", response.text)) == 2
