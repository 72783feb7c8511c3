"""Users and API keys: create them, and turn presented credentials into a Principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from layers.access.key_scope import checked_asset_scope, checked_topic_scope, printable
from layers.access.policy import Principal, principal_for
from layers.access.roles import InvalidRole, parse_role
from layers.catalog import LAYERS
from layers.errors import InvalidInput
from layers.tables import api_keys, audit_log, users

KEY_PREFIX = "kdl"
LAST_USED_EVERY = timedelta(minutes=5)
MAX_LISTED_KEYS = 1000
MAX_KEY_NAME_CHARS = 100
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


def _audit(conn: Connection, actor: str, action: str, prefix: str, after: dict[str, Any] | None) -> None:
    conn.execute(
        insert(audit_log).values(actor=actor, action=action, target="api_key", target_id=prefix, after=after)
    )


def create_key(
    conn: Connection,
    name: str,
    roles: Iterable[str],
    layer_scope: Iterable[str] | None = None,
    *,
    asset_scope: Iterable[str] | None = None,
    topic_scope: Iterable[str] | None = None,
    actor: str = "system",
) -> NewKey:
    """Create an API key for devices or scripts, audited; only its SHA-256 digest is stored.

    `asset_scope` binds a device key to its own assets (see layers.access.policy.in_asset_scope),
    `topic_scope` to the MQTT topic filters its messages may arrive on.
    """
    if not 1 <= len(name) <= MAX_KEY_NAME_CHARS or not printable(name):
        raise InvalidInput(
            f"a key name is 1 to {MAX_KEY_NAME_CHARS} printable characters",
            f"nama kunci berisi 1 sampai {MAX_KEY_NAME_CHARS} karakter cetak",
        )
    checked = _checked_roles(roles)
    scope = None if layer_scope is None else sorted(set(layer_scope))
    unknown = [layer for layer in scope or [] if layer not in LAYERS]
    if unknown:
        raise InvalidInput(f"unknown layers in scope: {unknown}", f"lapisan tidak dikenal: {unknown}")
    assets = checked_asset_scope(asset_scope, scope)
    topics = checked_topic_scope(topic_scope)
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
            asset_scope=assets,
            topic_scope=topics,
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    described = {"name": name, "roles": checked, "layers": scope, "assets": assets, "topics": topics}
    _audit(conn, actor, "create", prefix, described)
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
            api_keys.c.asset_scope,
            api_keys.c.topic_scope,
            api_keys.c.last_used_at,
        ).where(api_keys.c.prefix == parts[1], api_keys.c.revoked_at.is_(None))
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.key_hash, _digest(secret)):
        return None
    # Every tile and page request authenticates; recording use every few minutes keeps that a read.
    if row.last_used_at is None or row.last_used_at < datetime.now(UTC) - LAST_USED_EVERY:
        conn.execute(update(api_keys).where(api_keys.c.id == row.id).values(last_used_at=func.now()))
    return principal_for(
        f"key:{row.name}",
        row.roles,
        kind="key",
        scope=row.layer_scope,
        assets=row.asset_scope,
        topics=row.topic_scope,
    )


def revoke_key(conn: Connection, prefix: str, *, actor: str = "system") -> bool:
    """Revoke a key by its prefix, audited; return whether one was revoked."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    if result.rowcount == 0:
        return False
    _audit(conn, actor, "revoke", prefix, None)
    return True


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What an administrator may know of a key: never its secret or hash."""

    prefix: str
    name: str
    agency: str | None
    roles: list[str]
    layers: list[str] | None
    assets: list[str] | None
    topics: list[str] | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """Return the key as the admin API shows it (times in ISO 8601)."""

        def iso(at: datetime | None) -> str | None:
            return None if at is None else at.isoformat()

        return {
            "prefix": self.prefix,
            "name": self.name,
            "agency": self.agency,
            "roles": self.roles,
            "layers": self.layers,
            "assets": self.assets,
            "topics": self.topics,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


_KEY_COLUMNS = (
    api_keys.c.prefix,
    api_keys.c.name,
    api_keys.c.agency,
    api_keys.c.roles,
    api_keys.c.layer_scope,
    api_keys.c.asset_scope,
    api_keys.c.topic_scope,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
)


def _info(row: Any) -> KeyInfo:
    return KeyInfo(
        row.prefix,
        row.name,
        row.agency,
        list(row.roles),
        row.layer_scope,
        row.asset_scope,
        row.topic_scope,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


def list_keys(conn: Connection, limit: int = MAX_LISTED_KEYS) -> list[KeyInfo]:
    """Return the API keys that are not a user's, newest first, revoked ones included."""
    stmt = (
        select(*_KEY_COLUMNS)
        .where(api_keys.c.user_id.is_(None))
        .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        .limit(min(limit, MAX_LISTED_KEYS))
    )
    return [_info(row) for row in conn.execute(stmt)]


def key_info(conn: Connection, prefix: str) -> KeyInfo | None:
    """Return what an administrator may know of one key, or None."""
    row = conn.execute(select(*_KEY_COLUMNS).where(api_keys.c.prefix == prefix)).one_or_none()
    return None if row is None else _info(row)
