"""One view per layer in schema `qgis`, typed columns for QGIS, regenerated from the catalog.

Views are `security_invoker`, so the querying role's row-level security on `assets`, `areas` and
`asset_status` applies through them, and `security_barrier`, so no user function sees rows before
the layer filter. SELECT on a view is granted only to agency roles that may read the layer, which
also keeps it out of QGIS's table list (PostGIS's geometry_columns lists only readable relations).
Geometry is cast to the layer's multi type (a layer may hold single and multi geometries), so QGIS
reads a typed `geometry(<type>, 4326)` column without scanning.
"""

from __future__ import annotations

from psycopg import sql
from sqlalchemy import Connection

from layers.catalog import LAYERS
from layers.catalog.agencies import AGENCIES
from layers.catalog.spec import LayerSpec, Storage
from layers.features.queryables import property_kinds
from layers.qgis.roles import (
    agency_reads,
    agency_role,
    ensure_agency_roles,
    execute,
    raw_connection,
    sync_policies,
)

SCHEMA = "qgis"
_SQL_TYPES = {
    "string": "text",
    "number": "double precision",
    "integer": "bigint",
    "boolean": "boolean",
    "datetime": "timestamptz",
}


def _columns(layer: LayerSpec) -> list[sql.Composable]:
    out: list[sql.Composable] = [sql.SQL("a.id, a.name, a.external_id")]
    for name, kind in property_kinds(layer).items():
        out.append(
            sql.SQL("(a.properties ->> {})::{} AS {}").format(
                sql.Literal(name), sql.SQL(_SQL_TYPES[kind]), sql.Identifier(name)
            )
        )
    if layer.status is not None:
        out.append(sql.SQL("s.status, s.value AS status_value, s.unit AS status_unit, s.observed_at"))
        out.append(
            sql.SQL("(s.observed_at IS NULL OR s.observed_at < now() - {}::interval) AS stale").format(
                sql.Literal(layer.status.stale_after)
            )
        )
    out.append(sql.SQL("a.updated_at, a.version"))
    geometry = sql.SQL(layer.geometry.postgis_type())
    out.append(sql.SQL("ST_Multi(a.geom)::geometry({}, 4326) AS geom").format(geometry))
    return out


def view_statement(layer: LayerSpec) -> sql.Composed:
    """Return the CREATE VIEW statement of a layer's view."""
    if layer.storage is Storage.AREAS:
        source = sql.SQL("FROM public.areas a WHERE a.layer_id = {} AND a.deleted_at IS NULL")
    elif layer.status is not None:
        source = sql.SQL(
            "FROM public.assets a LEFT JOIN public.asset_status s ON s.asset_id = a.id WHERE a.layer_id = {}"
        )
    else:
        source = sql.SQL("FROM public.assets a WHERE a.layer_id = {}")
    return sql.SQL(
        "CREATE VIEW {} WITH (security_barrier = true, security_invoker = true) AS SELECT {} {}"
    ).format(
        sql.Identifier(SCHEMA, layer.id),
        sql.SQL(", ").join(_columns(layer)),
        source.format(sql.Literal(layer.id)),
    )


def _existing_views(conn: Connection) -> list[str]:
    with raw_connection(conn).cursor() as cursor:
        rows = cursor.execute("SELECT viewname FROM pg_views WHERE schemaname = %s", (SCHEMA,)).fetchall()
    return [str(row[0]) for row in rows]


def _create_view(conn: Connection, layer: LayerSpec) -> None:
    name = sql.Identifier(SCHEMA, layer.id)
    execute(conn, sql.SQL("DROP VIEW IF EXISTS {}").format(name))
    execute(conn, view_statement(layer))
    comment = f"{layer.title.id} / {layer.title.en}"
    execute(conn, sql.SQL("COMMENT ON VIEW {} IS {}").format(name, sql.Literal(comment)))
    execute(conn, sql.SQL("REVOKE ALL ON {} FROM PUBLIC").format(name))
    for agency in AGENCIES:
        if agency_reads(agency, layer):
            execute(
                conn, sql.SQL("GRANT SELECT ON {} TO {}").format(name, sql.Identifier(agency_role(agency)))
            )


def sync_views(conn: Connection) -> None:
    """Bring roles, row policies and the `qgis` views in step with the catalog (after the catalog sync)."""
    ensure_agency_roles(conn)
    sync_policies(conn)
    for stale in set(_existing_views(conn)) - set(LAYERS):
        execute(conn, sql.SQL("DROP VIEW {}").format(sql.Identifier(SCHEMA, stale)))
    for layer in LAYERS.values():
        _create_view(conn, layer)
