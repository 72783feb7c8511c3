"""Write the catalog's declarations into the `agencies` and `layers` tables."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert

from layers.catalog import LAYERS
from layers.catalog.agencies import AGENCIES
from layers.catalog.spec import LayerSpec
from layers.tables import agencies, areas, assets, layers

log = logging.getLogger(__name__)


def layer_row(spec: LayerSpec) -> dict[str, Any]:
    """Return the `layers` row that mirrors a declaration."""
    status = spec.status
    return {
        "id": spec.id,
        "title_id": spec.title.id,
        "title_en": spec.title.en,
        "description_id": spec.description.id,
        "description_en": spec.description.en,
        "geometry_type": spec.geometry.value,
        "owner": spec.owner,
        "access": spec.access.value,
        "storage": spec.storage.value,
        "property_schema": spec.properties.model_json_schema(),
        "statuses": None
        if status is None
        else [{"value": v, "id": status.labels[v].id, "en": status.labels[v].en} for v in status.values],
        "status_unit": None if status is None else status.unit,
        "report_every": None if status is None else status.report_every,
        "stale_after": None if status is None else status.stale_after,
        "style": spec.style.as_json(),
        "min_zoom": spec.min_zoom,
        "max_zoom": spec.max_zoom,
    }


def sync_catalog(conn: Connection) -> None:
    """Upsert every agency and layer; drop rows of layers no longer declared if they hold no features."""
    for agency in AGENCIES.values():
        stmt = insert(agencies).values(code=agency.code, name_id=agency.name.id, name_en=agency.name.en)
        conn.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=stmt.excluded))
    for spec in LAYERS.values():
        row = layer_row(spec)
        stmt = insert(layers).values(**row)
        changed = {k: stmt.excluded[k] for k in row if k != "id"} | {"updated_at": func.now()}
        conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changed))
    _drop_undeclared(conn)


def _drop_undeclared(conn: Connection) -> None:
    stale = conn.execute(select(layers.c.id).where(layers.c.id.not_in(list(LAYERS)))).scalars().all()
    for layer_id in stale:
        in_use = conn.execute(
            select(
                exists().where(assets.c.layer_id == layer_id) | exists().where(areas.c.layer_id == layer_id)
            )
        ).scalar_one()
        if in_use:
            log.warning("layer %r is no longer declared but still holds features; kept", layer_id)
        else:
            conn.execute(delete(layers).where(layers.c.id == layer_id))
