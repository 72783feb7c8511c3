"""A page of a layer reads that layer's rows only, even when its ids come after every other layer's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from layers.access.policy import field_view, principal_for
from layers.catalog import LAYERS
from layers.features.pages import FeatureQuery, page_statement

ADMIN = principal_for("plan-test", ["admin"], kind="key")


def _discarded(node: dict[str, Any]) -> int:
    """Return the rows the plan's nodes read and threw away by filter."""
    return int(node.get("Rows Removed by Filter", 0)) + sum(_discarded(c) for c in node.get("Plans", []))


def _plan(conn: Connection, q: FeatureQuery) -> dict[str, Any]:
    layer = LAYERS["dumping_points"]
    stmt = page_statement(layer, field_view(ADMIN, layer), q)
    sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
    explain = text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)  # noqa: S608 - our own compiled statement
    plan: dict[str, Any] = conn.execute(explain).scalar_one()[0]
    return plan


LATE_START = text(
    "SELECT count(*) FROM assets WHERE id < (SELECT min(id) FROM assets WHERE layer_id = 'dumping_points')"
)
TENTH_ID = text("SELECT id FROM assets WHERE layer_id = 'dumping_points' ORDER BY id OFFSET 9 LIMIT 1")


@pytest.mark.parametrize("next_page", [False, True], ids=["first", "next"])
def test_page_of_a_late_layer_skips_no_other_layers_rows(
    engine: Engine, conn: Connection, next_page: bool
) -> None:
    # A settled table, as autovacuum leaves it: its visibility map lets the page read the index alone.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text("VACUUM (ANALYZE) assets"))
    assert conn.execute(LATE_START).scalar_one() > 1000  # other layers' rows come first in id order
    q = FeatureQuery(limit=10, after_id=conn.execute(TENTH_ID).scalar_one() if next_page else None)
    assert _discarded(_plan(conn, q)["Plan"]) == 0
