"""Alembic environment: runs migrations against the URL the caller put in the config."""

from __future__ import annotations

from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

import layers.catalog  # noqa: F401  - loads every layer declaration
from alembic import context
from layers.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to alembic; use `kendali migrate`")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=alembic_helpers.include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline SQL generation is not supported; run against a database")
run_migrations_online()
