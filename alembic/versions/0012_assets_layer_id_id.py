"""Assets indexed by (layer_id, id): a page of one layer in id order reads only that layer's rows.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_assets_layer_id_id ON assets (layer_id, id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_assets_layer_id_id")
