"""Users and API keys: create them, and turn presented credentials into a Principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from layers.access.policy import Principal, principal_for
from layers.access.roles import InvalidRole, parse_role
from layers.catalog import LAYERS
from layers.errors import InvalidInput
from layers.tables import api_keys, users

KEY_PREFIX = "kdl"
LAST_USED_EVERY = timedelta(minutes=5)
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created API key; `secret` is shown once and never stored."""

    id: int
    prefix: str
    secret: str


def _checked_roles(roles: Iterable[str]) -> list[str]:
    checked = sorted(set(roles))
    if not checked:
        raise InvalidInput("at least one role is needed", "setidaknya satu peran diperlukan")
    for role in checked:
        try:
            parse_role(role)
        except InvalidRole as exc:
            raise InvalidInput(str(exc), f"peran tidak dikenal: {role!r}") from exc
    return checked


def _single_agency(roles: list[str]) -> str | None:
    found = sorted({a for a, _ in map(parse_role, roles) if a is not None})
    return found[0] if found else None


def create_user(
    conn: Connection, username: str, password: str, roles: Iterable[str], display_name: str = ""
) -> int:
    """Create a user with a hashed password; return its id."""
    if len(password) < 10:
        raise InvalidInput("password must have at least 10 characters", "kata sandi minimal 10 karakter")
    checked = _checked_roles(roles)
    return int(
        conn.execute(
            insert(users)
            .values(
                username=username,
                display_name=display_name or username,
                password_hash=_hasher.hash(password),
                agency=_single_agency(checked),
                roles=checked,
            )
            .returning(users.c.id)
        ).scalar_one()
    )


def authenticate_user(conn: Connection, username: str, password: str) -> Principal | None:
    """Return the user's principal if the password is right and the user is active."""
    row = conn.execute(
        select(users.c.password_hash, users.c.roles).where(users.c.username == username, users.c.active)
    ).one_or_none()
    if row is None:
        _hasher.hash(password)  # spend the same time as a real check, so usernames cannot be probed
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return principal_for(username, row.roles, kind="user")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    conn: Connection, name: str, roles: Iterable[str], layer_scope: Iterable[str] | None = None
) -> NewKey:
    """Create an API key for devices or scripts; only its SHA-256 digest is stored."""
    checked = _checked_roles(roles)
    scope = None if layer_scope is None else sorted(set(layer_scope))
    unknown = [layer for layer in scope or [] if layer not in LAYERS]
    if unknown:
        raise InvalidInput(f"unknown layers in scope: {unknown}", f"lapisan tidak dikenal: {unknown}")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key_id = conn.execute(
        insert(api_keys)
        .values(
            prefix=prefix,
            key_hash=_digest(secret),
            name=name,
            agency=_single_agency(checked),
            roles=checked,
            layer_scope=scope,
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    return NewKey(id=int(key_id), prefix=prefix, secret=secret)


def authenticate_key(conn: Connection, secret: str) -> Principal | None:
    """Return the key's principal if the key exists, matches and is not revoked."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(secret) > 200:
        return None
    row = conn.execute(
        select(
            api_keys.c.id,
            api_keys.c.key_hash,
            api_keys.c.name,
            api_keys.c.roles,
            api_keys.c.layer_scope,
            api_keys.c.last_used_at,
        ).where(api_keys.c.prefix == parts[1], api_keys.c.revoked_at.is_(None))
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.key_hash, _digest(secret)):
        return None
    # Every tile and page request authenticates; recording use every few minutes keeps that a read.
    if row.last_used_at is None or row.last_used_at < datetime.now(UTC) - LAST_USED_EVERY:
        conn.execute(update(api_keys).where(api_keys.c.id == row.id).values(last_used_at=func.now()))
    return principal_for(f"key:{row.name}", row.roles, kind="key", scope=row.layer_scope)


def revoke_key(conn: Connection, prefix: str) -> bool:
    """Revoke a key by its prefix; return whether one was revoked."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount > 0
