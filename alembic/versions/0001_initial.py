"""Initial schema: agencies, layers, assets, status, observations, areas, rasters, users, keys, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

_SQL = Path(__file__).with_suffix(".sql")

_TABLES = (
    "audit_log",
    "api_keys",
    "users",
    "raster_sources",
    "area_versions",
    "areas",
    "observations",
    "asset_status",
    "assets",
    "layers",
    "agencies",
)


def upgrade() -> None:
    # Run through the driver's cursor untouched: the DDL holds `%I`/`%L` format codes and `::` casts.
    cursor = op.get_bind().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(_SQL.read_text(encoding="utf-8"))


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")  # noqa: S608 - fixed names from this file
    op.execute("DROP FUNCTION IF EXISTS kendali_record_area_version()")
    op.execute("DROP FUNCTION IF EXISTS kendali_ensure_observation_partitions(timestamptz, timestamptz)")
