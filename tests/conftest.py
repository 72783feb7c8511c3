"""Shared fixtures: a real PostGIS test database, migrated, with the demo city loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.cli import cluster
from api.deps import get_session
from api.settings import ApiSettings
from basemaps.demo_rasters import write_demo_rasters
from layers import migrate
from layers.db import create_db_engine
from layers.demo.loader import load_demo
from layers.settings import DatabaseSettings
from tests._server import free_port, kendali_server

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_DB = os.environ.get("KENDALI_TEST_DB", f"kendali_test_{os.getpid()}")


def _drop_orphans(admin_url: str) -> None:
    """Drop test databases left by runs whose process is gone (each run has its own database)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as c:
        names = [
            r[0] for r in c.execute("SELECT datname FROM pg_database WHERE datname LIKE 'kendali\\_test\\_%'")
        ]
    for name in names:
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            cluster.drop_database(admin_url, name)


def _admin_url() -> str:
    """Return a URL to a database from which the test database can be created."""
    explicit = os.environ.get("KENDALI_TEST_ADMIN_URL")
    if explicit:
        return explicit
    settings = DatabaseSettings()
    return cluster.LocalCluster(PROJECT_ROOT / settings.data_dir, settings.pg_bindir).up("postgres")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def admin_url() -> str:
    """URL of the maintenance database of the test cluster."""
    return _admin_url()


@pytest.fixture(scope="session")
def database_url(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh test database of this run, migrated to head, with the demo city loaded."""
    _drop_orphans(admin_url)
    cluster.drop_database(admin_url, TEST_DB)
    cluster.create_database(admin_url, TEST_DB)
    url = _with_database(admin_url, TEST_DB)
    engine = create_db_engine(DatabaseSettings(url=url))  # type: ignore[arg-type]
    migrate.upgrade(url, engine)
    load_demo(
        engine,
        scale=1,
        seed=42,
        force=False,
        data_dir=tmp_path_factory.mktemp("data"),
        raster_writer=write_demo_rasters,
    )
    engine.dispose()
    yield url
    cluster.drop_database(admin_url, TEST_DB)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """A pooled engine on the test database."""
    eng = create_db_engine(DatabaseSettings(url=database_url))  # type: ignore[arg-type]
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(conn: Connection) -> Iterator[Session]:
    """An ORM session joined to the rolled-back test transaction."""
    with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def client(database_url: str, session: Session) -> Iterator[TestClient]:
    """An in-process client whose requests share the test's rolled-back session."""
    app = create_app(ApiSettings(db=DatabaseSettings(url=database_url)))  # type: ignore[arg-type]
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def server_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `kendali serve` on 127.0.0.1 against the test database; its log goes to a temp file."""
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    # Alert rules and webhook deliveries are driven by the tests themselves (evaluate/deliver_due with a
    # controlled clock); a background evaluator in this shared server would race them.
    with kendali_server(database_url, free_port(), log_path, KENDALI_ALERT_CHECK_S="3600") as base:
        yield base
