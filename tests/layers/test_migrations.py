"""Migrations run up, down and up again, and the models agree with what they build."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, Engine, inspect, text

from api.cli import cluster
from layers import migrate
from layers.db import create_db_engine
from layers.schema import metadata
from layers.settings import DatabaseSettings

SCRATCH_DB = f"kendali_scratch_{os.getpid()}"


@pytest.fixture
def scratch_url(admin_url: str) -> Iterator[str]:
    cluster.drop_database(admin_url, SCRATCH_DB)
    cluster.create_database(admin_url, SCRATCH_DB)
    yield admin_url.rpartition("/")[0] + f"/{SCRATCH_DB}"
    cluster.drop_database(admin_url, SCRATCH_DB)


def _tables(url: str) -> set[str]:
    engine = create_db_engine(DatabaseSettings(url=url))  # type: ignore[arg-type]
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
    finally:
        engine.dispose()


def test_migrations_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    engine = create_db_engine(DatabaseSettings(url=scratch_url))  # type: ignore[arg-type]
    migrate.upgrade(scratch_url, engine)
    assert {"assets", "asset_status", "observations", "areas", "api_keys", "audit_log"} <= _tables(
        scratch_url
    )
    migrate.downgrade(scratch_url, "base")
    assert not {t for t in _tables(scratch_url) if not t.startswith("observations_")}
    migrate.upgrade(scratch_url, engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM layers")).scalar_one() > 0
    engine.dispose()


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _include, "compare_type": False})
        diff = compare_metadata(context, metadata)
    assert diff == []


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    if (
        type_ == "table"
        and name is not None
        and (name.startswith("observations_") or name == "spatial_ref_sys")
    ):
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))


def test_observation_partitions_are_created_ahead(conn: Connection) -> None:
    ensure = text(
        "SELECT kendali_ensure_observation_partitions("
        "now() + interval '5 months', now() + interval '7 months')"
    )
    made = conn.execute(ensure).scalar_one()
    again = conn.execute(ensure).scalar_one()
    assert made == 3
    assert again == 0
