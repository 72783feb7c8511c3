"""A query layer's answer as an export source: the same writers as stored layers, filtered the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from geo.kinds import GeometryKind
from layers.export.rows import ExportColumn, ExportSource, GeomEncoding, Paging, geometry_columns
from layers.features.pages import FeatureQuery, order_clauses
from layers.queries.serve import Answer, answer_queryables, where_clauses


def answer_statement(answer: Answer, q: FeatureQuery, paging: Paging, encoding: GeomEncoding) -> Select[Any]:
    """Return the answer's rows the items path would return for `q`, as typed columns."""
    rows = answer.rows
    names = [c.name for c in answer.columns if q.select is None or c.name in q.select]
    qs = answer_queryables(answer)
    stmt = (
        select(rows.c.id.label("id"), *(rows.c[n].label(n) for n in names))
        .add_columns(*geometry_columns(rows.c.geom, answer.spec.geometry, q.crs, encoding))
        .where(*where_clauses(answer, q))
        .order_by(*order_clauses(qs, q.sortby), rows.c.id.asc())
    )
    if paging.limit is not None:
        stmt = stmt.limit(paging.limit).offset(paging.offset)
    return stmt


def answer_source(answer: Answer, q: FeatureQuery, paging: Paging | None = None) -> ExportSource:
    """Return the export source of a query layer's answer."""
    spec = answer.spec
    columns = tuple(
        ExportColumn(c.name, c.kind) for c in answer.columns if q.select is None or c.name in q.select
    )
    window = paging or Paging()
    geometry_type = "Point" if spec.geometry is GeometryKind.POINT else spec.geometry.postgis_type()
    names = {c.name for c in columns}
    return ExportSource(
        name=spec.id,
        title=spec.title,
        description=spec.description,
        agency=spec.owner,
        geometry=spec.geometry,
        geometry_type=geometry_type,
        srid=q.crs.srid,
        columns=columns,
        style=spec.style,
        statement=lambda encoding: answer_statement(answer, q, window, encoding),
        style_attribute=spec.style_attribute if spec.style_attribute in names else None,
        labels=dict(spec.labels),
        time_limit_s=spec.time_limit_s,
    )
