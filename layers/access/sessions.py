"""Sessions for people: a password checked once (argon2) buys an opaque token kept as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from layers.access.auth import authenticate_user
from layers.access.policy import Principal, principal_for
from layers.access.session_tables import user_sessions
from layers.tables import users

# API keys start with "kdl_"; session tokens with "kds_", so a Bearer value says which table to look in.
SESSION_PREFIX = "kds"
MAX_TOKEN_CHARS = 200
IDLE_TIMEOUT = timedelta(hours=12)  # a shift; each use pushes the expiry forward
MAX_AGE = timedelta(days=7)  # after this, sign in again however busy the session was
TOUCH_EVERY = timedelta(minutes=5)  # refresh the expiry at most this often (tile bursts stay read-only)


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened; `token` is given to the client once and never stored."""

    token: str
    expires_at: datetime
    principal: Principal
    display_name: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_session_token(value: str) -> bool:
    """Return whether a Bearer value is shaped like a session token (not an API key)."""
    return value.startswith(f"{SESSION_PREFIX}_")


def open_session(conn: Connection, username: str, password: str) -> NewSession | None:
    """Check the password and open a session; None when the credentials are wrong."""
    principal = authenticate_user(conn, username, password)
    if principal is None:
        return None
    user = conn.execute(select(users.c.id, users.c.display_name).where(users.c.username == username)).one()
    conn.execute(delete(user_sessions).where(user_sessions.c.expires_at < func.now() - MAX_AGE))
    token = f"{SESSION_PREFIX}_{secrets.token_urlsafe(32)}"
    expires_at = conn.execute(
        insert(user_sessions)
        .values(token_hash=_digest(token), user_id=user.id, expires_at=func.now() + IDLE_TIMEOUT)
        .returning(user_sessions.c.expires_at)
    ).scalar_one()
    return NewSession(token, expires_at, principal, user.display_name)


def authenticate_session(conn: Connection, token: str) -> Principal | None:
    """Return the principal of a live session token, or None (unknown, expired, revoked, user inactive)."""
    if not is_session_token(token) or len(token) > MAX_TOKEN_CHARS:
        return None
    s = user_sessions
    row = conn.execute(
        select(s.c.id, s.c.last_seen_at, users.c.username, users.c.roles)
        .join(users, users.c.id == s.c.user_id)
        .where(
            s.c.token_hash == _digest(token),
            s.c.revoked_at.is_(None),
            s.c.expires_at > func.now(),
            s.c.created_at > func.now() - MAX_AGE,
            users.c.active,
        )
    ).one_or_none()
    if row is None:
        return None
    conn.execute(
        update(s)
        .where(s.c.id == row.id, s.c.last_seen_at < func.now() - TOUCH_EVERY)
        .values(last_seen_at=func.now(), expires_at=func.now() + IDLE_TIMEOUT)
    )
    return principal_for(row.username, row.roles, kind="user")


def close_session(conn: Connection, token: str) -> bool:
    """Revoke a session token; return whether a live session was closed."""
    if not is_session_token(token) or len(token) > MAX_TOKEN_CHARS:
        return False
    result = conn.execute(
        update(user_sessions)
        .where(user_sessions.c.token_hash == _digest(token), user_sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount > 0


def display_name(conn: Connection, username: str) -> str:
    """Return a user's display name (the username when unknown)."""
    name = conn.execute(select(users.c.display_name).where(users.c.username == username)).scalar()
    return str(name) if name else username
