"""API keys bound to assets: the external ids or patterns a key may report for, and its MQTT topics.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE api_keys ADD COLUMN asset_scope text[]")
    op.execute("ALTER TABLE api_keys ADD COLUMN topic_scope text[]")


def downgrade() -> None:
    op.execute("ALTER TABLE api_keys DROP COLUMN topic_scope")
    op.execute("ALTER TABLE api_keys DROP COLUMN asset_scope")
