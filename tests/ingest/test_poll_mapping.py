"""The JSON mapping of HTTP pollers, the pollers file checks, and the backoff schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.poll_mapping import MISSING, map_document, pick
from ingest.poller_config import JsonMapping, PollerConfigError, load_pollers
from ingest.pollers import backoff_delay

FETCHED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
APP_STATUSES = ("up", "down")


def mapped(document: object, **mapping: Any) -> tuple[list[Any], list[str]]:
    statuses = mapping.pop("statuses", APP_STATUSES)
    config = JsonMapping(**mapping)
    return map_document(
        document, config, layer_id="city_apps", statuses=statuses, source="feed", fetched_at=FETCHED
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", {"a": [{"b": 1}]}),
        ("$", {"a": [{"b": 1}]}),
        ("a.0.b", 1),
        ("$.a.0", {"b": 1}),
        ("a.1", MISSING),
        ("x", MISSING),
    ],
)
def test_pick_follows_dotted_paths(path: str, expected: object) -> None:
    assert pick({"a": [{"b": 1}]}, path) == expected


def test_items_map_to_reports_with_status_map_value_and_time() -> None:
    document = {
        "data": {"apps": [{"code": "simak", "state": "ok", "ms": "120.5", "at": "2025-01-02T01:00:00+09:00"}]}
    }
    reports, problems = mapped(
        document,
        items="data.apps",
        external_id="code",
        status="state",
        status_map={"ok": "up"},
        value="ms",
        observed_at="at",
    )
    assert problems == []
    (report,) = reports
    assert (report.layer_id, report.external_id, report.status, report.value, report.source) == (
        "city_apps",
        "simak",
        "up",
        120.5,
        "feed",
    )
    assert report.observed_at == datetime(2025, 1, 1, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(("count", "status"), [(10, "lancar"), (300, "padat"), (999, "macet")])
def test_value_thresholds_give_the_status(count: int, status: str) -> None:
    reports, _ = mapped(
        [{"id": 7, "n": count}],
        external_id="id",
        value="n",
        value_thresholds=[(0, "lancar"), (300, "padat"), (600, "macet")],
        statuses=("lancar", "padat", "macet"),
    )
    assert [(r.external_id, r.status, r.value) for r in reports] == [("7", status, float(count))]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, FETCHED), (1735787045, FETCHED), (1735787045000, FETCHED), ("2025-01-02T03:04:05", FETCHED)],
)
def test_observed_at_reads_iso_and_epoch_times(raw: object, expected: datetime) -> None:
    item = {"id": "a", "s": "up"} | ({} if raw is None else {"t": raw})
    reports, _ = mapped([item], external_id="id", status="s", observed_at="t")
    assert reports[0].observed_at == expected


@pytest.mark.parametrize(
    "item", [{"s": "up"}, {"id": "a", "s": "sideways"}, {"id": "a", "s": "up", "t": "yesterday"}]
)
def test_unmappable_items_are_noted_not_reported(item: dict[str, object]) -> None:
    reports, problems = mapped([item], external_id="id", status="s", observed_at="t")
    assert (reports, len(problems)) == ([], 1)


def test_a_document_without_the_list_is_noted() -> None:
    assert mapped({"data": {}}, items="data.apps", external_id="id", status="s") == (
        [],
        ["no list at 'data.apps'"],
    )


@pytest.mark.parametrize(
    ("failures", "delay"), [(0, 10.0), (1, 20.0), (2, 40.0), (3, 80.0), (4, 100.0), (60, 100.0)]
)
def test_backoff_doubles_per_failure_up_to_its_cap(failures: int, delay: float) -> None:
    assert backoff_delay(10.0, failures, 100.0) == delay


POLLER = """
[[poller]]
name = "feed"
kind = "http_json"
layer = "{layer}"
url = "{url}"
[poller.mapping]
external_id = "id"
status = "s"
status_map = {{ ok = "{status}" }}
"""


@pytest.mark.parametrize(
    ("layer", "url", "status", "message"),
    [
        ("nope", "http://127.0.0.1/x", "up", "does not exist"),
        ("districts", "http://127.0.0.1/x", "up", "carries no live status"),
        ("city_apps", "http://127.0.0.1/x", "sideways", "not in layer"),
        ("city_apps", "ftp://127.0.0.1/x", "up", "URL scheme should be 'http' or 'https'"),
    ],
)
def test_pollers_file_is_checked_against_the_catalog(
    tmp_path: Path, layer: str, url: str, status: str, message: str
) -> None:
    path = tmp_path / "pollers.toml"
    path.write_text(POLLER.format(layer=layer, url=url, status=status))
    with pytest.raises(PollerConfigError, match=message):
        load_pollers(path)


def test_pollers_file_needs_unique_names(tmp_path: Path) -> None:
    path = tmp_path / "pollers.toml"
    path.write_text(
        '[[poller]]\nname = "a"\nkind = "app_health"\n[[poller]]\nname = "a"\nkind = "camera_probe"\n'
    )
    with pytest.raises(PollerConfigError, match="unique"):
        load_pollers(path)


def test_pollers_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pollers.toml"
    path.write_text("[[poller]\nname=")
    with pytest.raises(PollerConfigError, match="not valid TOML"):
        load_pollers(path)
