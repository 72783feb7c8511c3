"""Read-only database roles per agency, their row policies, and logins for QGIS power users.

`kendali_ro_<agency>` (NOLOGIN, member of `kendali_ro`) may read a layer when every role of that
agency may read it under layers/policy.py: public and internal layers for all agencies, restricted
layers only for agencies whose every role matches the layer's readers (taxpayers: `bpprd-*`, so
only `kendali_ro_bpprd`; `kominfo-supervisor` alone does not open it to all of Kominfo).
A database role is agency-wide: it sees every attribute of the rows it may read.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import Connection

from layers.access.policy import Action, allows, principal_for
from layers.access.roles import FUNCTIONS
from layers.catalog import LAYERS
from layers.catalog.agencies import AGENCIES
from layers.catalog.spec import LayerSpec, Storage
from layers.errors import InvalidInput

RO_GROUP = "kendali_ro"
LOGIN_NAME = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
LOGIN_CONNECTIONS = 10
LOGIN_STATEMENT_TIMEOUT = "60s"


@dataclass(frozen=True, slots=True)
class NewLogin:
    """A database login just created; the password is shown once and stored only as a SCRAM verifier."""

    name: str
    agency: str
    password: str


def agency_role(agency: str) -> str:
    """Return the group role of an agency's read-only database users."""
    return f"{RO_GROUP}_{agency}"


def agency_reads(agency: str, layer: LayerSpec) -> bool:
    """Return whether every role of `agency` may read `layer` (what its database role may read)."""
    return all(
        allows(
            principal_for(f"{agency}-{function}", [f"{agency}-{function}"], kind="user"), Action.READ, layer
        )
        for function in FUNCTIONS
    )


def readable_by(agency: str) -> list[LayerSpec]:
    """Return the layers an agency's database role may read, in catalog order."""
    return [layer for layer in LAYERS.values() if agency_reads(agency, layer)]


def raw_connection(conn: Connection) -> psycopg.Connection[tuple[object, ...]]:
    """Return the psycopg connection under a SQLAlchemy connection (same transaction)."""
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)  # noqa: S101 - kendali runs on psycopg 3
    return raw


def execute(conn: Connection, statement: sql.Composed | sql.SQL) -> None:
    """Run a composed statement (names and literals quoted by psycopg) in the connection's transaction."""
    with raw_connection(conn).cursor() as cursor:
        cursor.execute(statement)


@contextmanager
def _tolerating_duplicates(conn: Connection) -> Iterator[None]:
    # Roles are cluster-wide: another database's migration may create the same role at the same time.
    try:
        with conn.begin_nested():
            yield
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass


def _found(conn: Connection, query: str, params: tuple[str, ...]) -> bool:
    with raw_connection(conn).cursor() as cursor:
        return cursor.execute(query, params).fetchone() is not None


def _role_exists(conn: Connection, name: str) -> bool:
    return _found(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))


def _is_member(conn: Connection, member: str, group: str) -> bool:
    query = (
        "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s AND r.rolname = %s"
    )
    return _found(conn, query, (member, group))


def ensure_agency_roles(conn: Connection) -> None:
    """Create each agency's NOLOGIN read-only group role (a member of `kendali_ro`) if it is missing."""
    for agency in AGENCIES:
        role = sql.Identifier(agency_role(agency))
        if not _role_exists(conn, agency_role(agency)):
            with _tolerating_duplicates(conn):
                execute(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(role))
        if not _is_member(conn, agency_role(agency), RO_GROUP):
            with _tolerating_duplicates(conn):
                execute(conn, sql.SQL("GRANT {} TO {}").format(sql.Identifier(RO_GROUP), role))


def _layer_ids(layers: list[LayerSpec], storage: Storage | None = None) -> sql.Composable:
    ids = [sql.Literal(layer.id) for layer in layers if storage is None or layer.storage is storage]
    return sql.SQL("ARRAY[{}]::text[]").format(sql.SQL(", ").join(ids))


def sync_policies(conn: Connection) -> None:
    """(Re)create each agency role's row policies on `layers`, `assets` and `areas` from the catalog."""
    for agency in AGENCIES:
        readable = readable_by(agency)
        name = sql.Identifier(f"kendali_read_{agency}")
        role = sql.Identifier(agency_role(agency))
        for table, column, storage in (
            ("layers", "id", None),
            ("assets", "layer_id", Storage.ASSETS),
            ("areas", "layer_id", Storage.AREAS),
        ):
            target = sql.Identifier("public", table)
            execute(conn, sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(name, target))
            execute(
                conn,
                sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({} = ANY ({}))").format(
                    name, target, role, sql.Identifier(column), _layer_ids(readable, storage)
                ),
            )


def _login_name(agency: str, name: str | None) -> str:
    chosen = name or f"kendali_{agency}_{secrets.token_hex(3)}"
    if not LOGIN_NAME.match(chosen) or chosen.startswith(RO_GROUP):
        raise InvalidInput(
            "login names are 3-63 lower-case letters, digits or _, starting with a letter",
            "nama login 3-63 huruf kecil, angka atau _, diawali huruf",
        )
    return chosen


def grant_login(conn: Connection, agency: str, name: str | None = None) -> NewLogin:
    """Create a read-only LOGIN role in `agency`'s group with a generated password (stored as SCRAM only)."""
    if agency not in AGENCIES:
        listed = ", ".join(AGENCIES)
        raise InvalidInput(
            f"unknown agency {agency!r}; use one of {listed}", f"instansi tidak dikenal: {agency!r}"
        )
    login = _login_name(agency, name)
    password = secrets.token_urlsafe(24)
    raw = raw_connection(conn)
    verifier = raw.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256").decode()
    ident = sql.Identifier(login)
    execute(
        conn,
        sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
            "CONNECTION LIMIT {} PASSWORD {} IN ROLE {}"
        ).format(
            ident, sql.Literal(LOGIN_CONNECTIONS), sql.Literal(verifier), sql.Identifier(agency_role(agency))
        ),
    )
    execute(conn, sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))
    execute(
        conn,
        sql.SQL("ALTER ROLE {} SET statement_timeout = {}").format(
            ident, sql.Literal(LOGIN_STATEMENT_TIMEOUT)
        ),
    )
    return NewLogin(login, agency, password)


def drop_login(conn: Connection, name: str) -> bool:
    """Drop a login made by `grant_login` (a LOGIN member of an agency group); return whether it existed."""
    query = (
        "SELECT 1 FROM pg_roles r WHERE r.rolname = %s AND r.rolcanlogin "
        "AND pg_has_role(r.oid, %s, 'MEMBER') AND NOT r.rolsuper"
    )
    if not _found(conn, query, (name, RO_GROUP)):
        return False
    # Privileges granted to the login by hand in this database go with it (other databases: revoke there).
    execute(conn, sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
    execute(conn, sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
    return True
