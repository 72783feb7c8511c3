"""Composite GiST index on (layer_id, geom): every spatial query is scoped to one layer.

Without it PostgreSQL ANDs a bitmap of the whole layer (750,000 rows for taxpayers at scale) with the
spatial bitmap on every request.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("CREATE INDEX ix_assets_layer_id_geom ON assets USING gist (layer_id, geom)")
    op.execute("CREATE INDEX ix_areas_layer_id_geom ON areas USING gist (layer_id, geom)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_areas_layer_id_geom")
    op.execute("DROP INDEX IF EXISTS ix_assets_layer_id_geom")
