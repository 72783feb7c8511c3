"""Engine and sessions, and the one place driver errors become domain errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg.errors as pg_errors
from sqlalchemy import Connection, Engine, Text, bindparam, create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from layers.errors import Conflict, DatabaseUnavailable, InvalidInput, OutsideCrsArea, QueryTimeout
from layers.settings import DatabaseSettings

log = logging.getLogger(__name__)


def create_db_engine(settings: DatabaseSettings) -> Engine:
    """Return a pooled engine whose every connection runs under the statement timeout, in UTC.

    JIT is off: on feature and tile queries its compile time (hundreds of ms) dwarfs the query itself.
    """
    return create_engine(
        settings.sqlalchemy_url(),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=True,
        connect_args={
            "options": f"-c statement_timeout={settings.statement_timeout_ms} -c timezone=UTC -c jit=off",
            "connect_timeout": 10,
            "application_name": "kendali",
        },
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to `engine`."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn driver errors into domain errors with safe messages; log the detail."""
    try:
        yield
    except DBAPIError as exc:
        raise translate(exc) from exc


def translate(exc: DBAPIError) -> Exception:
    """Return the domain error for a driver error (the original goes to the log only)."""
    orig = exc.orig
    log.warning("database error: %s", orig)
    if isinstance(orig, pg_errors.QueryCanceled):
        return QueryTimeout()
    if isinstance(orig, pg_errors.UniqueViolation):
        return Conflict(
            "a feature with the same key already exists", "fitur dengan kunci yang sama sudah ada"
        )
    if isinstance(
        orig, pg_errors.CheckViolation | pg_errors.NotNullViolation | pg_errors.ForeignKeyViolation
    ):
        return InvalidInput("the data breaks a rule of the store", "data melanggar aturan penyimpanan")
    if _is_transform_error(orig):
        return OutsideCrsArea()
    if isinstance(orig, pg_errors.DataException):
        return InvalidInput("a value is out of range for the store", "nilai di luar rentang penyimpanan")
    if isinstance(orig, pg_errors.OperationalError) or exc.connection_invalidated:
        return DatabaseUnavailable()
    return exc


def _is_transform_error(orig: BaseException | None) -> bool:
    """Return whether PostGIS's ST_Transform failed in PROJ ("transform: Point outside of projection ...")."""
    # PostGIS raises these as XX000 (internal_error); only the message tells them apart.
    if not isinstance(orig, pg_errors.InternalError_):
        return False
    return (orig.diag.message_primary or "").startswith("transform:")


def database_facts(session: Session) -> dict[str, str | None]:
    """Return the PostGIS version and the applied migration revision."""
    postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    revision = session.execute(
        text("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version")
    ).scalar_one_or_none()
    return {"postgis": str(postgis), "revision": revision}


def limit_statement_time(conn: Connection, seconds: float) -> None:
    """Bound the statements that follow in this transaction by `seconds` (statement_timeout, local)."""
    ms = str(int(seconds * 1000))
    conn.execute(select(func.set_config("statement_timeout", bindparam("ms", ms, Text), True)))
