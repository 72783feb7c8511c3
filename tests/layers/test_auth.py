"""Users and API keys: stored hashed, checked on use, revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, select, text

from layers.access.auth import authenticate_key, authenticate_user, create_key, create_user, revoke_key
from layers.errors import InvalidInput
from layers.tables import api_keys, users


def test_api_key_is_stored_only_as_a_hash(conn: Connection) -> None:
    new = create_key(conn, "tps-sensor", ["dlhp-operator"], ["dumping_points"])
    stored = conn.execute(select(api_keys).where(api_keys.c.id == new.id)).mappings().one()
    assert new.secret not in {str(v) for v in stored.values()}
    assert stored["key_hash"] != new.secret and len(stored["key_hash"]) == 64


def test_api_key_authenticates_with_its_roles_and_scope(conn: Connection) -> None:
    new = create_key(conn, "tps-sensor", ["dlhp-operator"], ["dumping_points"])
    principal = authenticate_key(conn, new.secret)
    assert principal is not None
    assert principal.roles == {"dlhp-operator"} and principal.layer_scope == {"dumping_points"}


@pytest.mark.parametrize(
    "mangle", [lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), lambda s: "x" + s, str.upper]
)
def test_wrong_key_is_refused(conn: Connection, mangle: object) -> None:
    new = create_key(conn, "k", ["dlhp-operator"])
    assert callable(mangle)
    assert authenticate_key(conn, mangle(new.secret)) is None


def test_revoked_key_is_refused(conn: Connection) -> None:
    new = create_key(conn, "k", ["dlhp-operator"])
    assert revoke_key(conn, new.prefix)
    assert authenticate_key(conn, new.secret) is None


def test_password_is_stored_hashed_and_checked(conn: Connection) -> None:
    create_user(conn, "ana", "correct horse battery", ["bpprd-analyst"])
    stored = conn.execute(select(users.c.password_hash).where(users.c.username == "ana")).scalar_one()
    assert "correct horse" not in stored and stored.startswith("$argon2")
    assert authenticate_user(conn, "ana", "correct horse battery") is not None
    assert authenticate_user(conn, "ana", "wrong password!!") is None


def test_unknown_role_is_refused(conn: Connection) -> None:
    with pytest.raises(InvalidInput, match="unknown role"):
        create_user(conn, "x", "long enough password", ["mayor"])


def test_key_use_is_recorded_at_most_every_few_minutes(conn: Connection) -> None:
    new = create_key(conn, "k", ["dlhp-operator"])

    def used_after(ago: str) -> object:
        conn.execute(
            text("UPDATE api_keys SET last_used_at = now() - CAST(:ago AS interval) WHERE id = :id"),
            {"ago": ago, "id": new.id},
        )
        before = conn.execute(select(api_keys.c.last_used_at).where(api_keys.c.id == new.id)).scalar_one()
        authenticate_key(conn, new.secret)
        after = conn.execute(select(api_keys.c.last_used_at).where(api_keys.c.id == new.id)).scalar_one()
        return after != before

    assert not used_after("1 minute")
    assert used_after("10 minutes")
