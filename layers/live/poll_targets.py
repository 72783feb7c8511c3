"""What the pollers probe: the assets of a layer that carry a URL property."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from sqlalchemy import Connection, select

from layers.catalog.spec import LayerSpec
from layers.tables import assets

MAX_TARGETS = 100_000


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """One asset to probe and the URL to probe it at."""

    asset_id: int
    external_id: str
    url: str


def probe_targets(
    conn: Connection, layer: LayerSpec, url_property: str, match: str = "*"
) -> list[ProbeTarget]:
    """Return the layer's assets whose `url_property` is set and whose external id matches the glob."""
    if url_property not in layer.properties.model_fields:
        raise ValueError(f"layer {layer.id!r} has no property {url_property!r}")
    url = assets.c.properties[url_property].astext
    stmt = (
        select(assets.c.id, assets.c.external_id, url.label("url"))
        .where(assets.c.layer_id == layer.id, url.is_not(None))
        .order_by(assets.c.id)
        .limit(MAX_TARGETS)
    )
    return [
        ProbeTarget(row.id, row.external_id, row.url)
        for row in conn.execute(stmt)
        if fnmatchcase(row.external_id, match)
    ]
