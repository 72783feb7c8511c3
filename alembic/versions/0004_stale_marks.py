"""Stale marks: which assets were already announced as stale, so each is announced once per silence.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE stale_marks (
            asset_id bigint CONSTRAINT pk_stale_marks PRIMARY KEY
                CONSTRAINT fk_stale_marks_asset_id REFERENCES assets (id) ON DELETE CASCADE,
            observed_at timestamptz,
            since timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS stale_marks")
