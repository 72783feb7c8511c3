"""Import jobs: large imports run in the background with progress a client polls.

A job's process beats `heartbeat_at` every few seconds; a queued or running job whose beat has stopped
belonged to a process that died and is marked failed. `cancel_requested` reaches the job's process
whichever API process took the DELETE.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE import_jobs (
            id uuid CONSTRAINT pk_import_jobs PRIMARY KEY,
            layer_id text NOT NULL,
            actor text NOT NULL,
            state text NOT NULL DEFAULT 'queued'
                CONSTRAINT ck_import_jobs_state
                CHECK (state IN ('queued', 'running', 'done', 'refused', 'failed', 'cancelled')),
            dry_run boolean NOT NULL,
            options jsonb NOT NULL DEFAULT '{}'::jsonb,
            rows_total integer,
            rows_done integer NOT NULL DEFAULT 0,
            report jsonb,
            error jsonb,
            cancel_requested boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            finished_at timestamptz,
            heartbeat_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_import_jobs_actor_created ON import_jobs (actor, created_at DESC)")
    # The jobs still under way: the ones a stale sweep looks at.
    op.execute(
        "CREATE INDEX ix_import_jobs_active ON import_jobs (heartbeat_at) "
        "WHERE state IN ('queued', 'running')"
    )


def downgrade() -> None:
    op.execute("DROP TABLE import_jobs")
