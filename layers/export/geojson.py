"""GeoJSON export streamed straight from a server-side cursor: a FeatureCollection written chunk by chunk."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import Connection

from layers.export.rows import ExportSource, GeomEncoding, stream_rows
from layers.export.values import json_value


def geojson_chunks(conn: Connection, source: ExportSource) -> Iterator[bytes]:
    """Yield a GeoJSON FeatureCollection as UTF-8 bytes; geometries are PostGIS's own GeoJSON.

    The head waits for the first rows; a stream cut short lacks the closing `]}` and does not parse.
    """
    names = [c.name for c in source.columns]
    members = {"type": "FeatureCollection", "name": source.name, "title": source.title.id}
    head = json.dumps(members, ensure_ascii=False)[:-1] + ',"features":[\n'
    lead = head
    for rows in stream_rows(conn, source.statement(GeomEncoding.GEOJSON)):
        parts = []
        for row in rows:
            properties = {name: json_value(row[i]) for i, name in enumerate(names, start=1)}
            feature = json.dumps(
                {"type": "Feature", "id": row[0], "properties": properties}, ensure_ascii=False
            )
            geometry = row[len(names) + 1] or "null"
            parts.append(feature[:-1] + ',"geometry":' + geometry + "}")
        if parts:
            yield (lead + ",\n".join(parts)).encode("utf-8")
            lead = ",\n"
    yield ((head if lead == head else "") + "\n]}\n").encode("utf-8")
