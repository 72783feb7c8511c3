"""The catalog's declarations and the `layers` table stay in step; declarations are well formed."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, select

from layers.catalog import LAYERS, get_layer, index_by_id
from layers.catalog.sync import layer_row, sync_catalog
from layers.errors import LayerNotFound
from layers.tables import layers


def _stored(conn: Connection) -> dict[str, dict[str, object]]:
    return {row["id"]: dict(row) for row in conn.execute(select(layers)).mappings()}


def test_layers_table_matches_catalog(conn: Connection) -> None:
    stored = _stored(conn)
    assert set(stored) == set(LAYERS)
    for spec in LAYERS.values():
        expected = layer_row(spec)
        for column in ("title_id", "title_en", "access", "owner", "geometry_type", "style", "statuses"):
            assert stored[spec.id][column] == expected[column], (spec.id, column)


def test_sync_restores_a_changed_layer_row(conn: Connection) -> None:
    conn.execute(layers.update().where(layers.c.id == "cctv").values(title_en="tampered", access="public"))
    sync_catalog(conn)
    assert _stored(conn)["cctv"]["title_en"] == "CCTV cameras"


def test_sync_drops_an_undeclared_empty_layer(conn: Connection) -> None:
    row = layer_row(LAYERS["rivers"]) | {"id": "old_layer"}
    conn.execute(layers.insert().values(**row))
    sync_catalog(conn)
    assert "old_layer" not in _stored(conn)


def test_duplicate_layer_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate layer id 'cctv'"):
        index_by_id(LAYERS["cctv"], LAYERS["cctv"])


def test_unknown_layer_raises_layer_not_found() -> None:
    with pytest.raises(LayerNotFound):
        get_layer("no_such_layer")


@pytest.mark.parametrize("spec", list(LAYERS.values()), ids=list(LAYERS))
def test_every_layer_is_fully_declared(spec: object) -> None:
    from layers.catalog.spec import LayerSpec

    assert isinstance(spec, LayerSpec)
    assert spec.title.id and spec.title.en and spec.description.id and spec.description.en
    if spec.status is not None:
        assert set(spec.status.labels) == set(spec.status.values)
        assert set(spec.style.by_status) <= set(spec.status.values)
        assert spec.status.stale_after > spec.status.report_every
