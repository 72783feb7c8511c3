"""Numbers in paths, parameters and headers are ASCII digits; '²' or '٣' is a 4xx, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from geo.digits import signed_whole_number, whole_number


@pytest.mark.parametrize(
    "url",
    [
        "/collections/cctv/items/%C2%B2",
        "/collections/cctv/items/%D9%A3",
        "/collections/cctv/items?cursor=n%C2%B2",
        "/collections/cctv/items?bbox-crs=http://www.opengis.net/def/crs/EPSG/0/%C2%B2",
        "/tiles/cctv/%C2%B2/0/0.mvt",
        "/events?last_event_id=%C2%B2",
    ],
)
def test_superscript_and_other_script_digits_are_client_errors(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_whole_numbers_are_ascii_digits_only() -> None:
    assert whole_number("42") == 42
    assert whole_number("²") is None and whole_number("٣") is None
    assert whole_number("") is None and whole_number("1" * 19) is None
    assert whole_number("1" * 19, 19) == int("1" * 19)
    assert signed_whole_number("-7") == -7 and signed_whole_number("--7") is None
    assert signed_whole_number("-") is None
