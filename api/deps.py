"""Typed dependencies, so that routes read like sentences."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.errors import request_lang
from api.feature_params import DESCRIBE, EXPORT, ITEMS, Param, names_for, own_values
from layers.access.auth import authenticate_key, authenticate_user
from layers.access.policy import ANONYMOUS, Principal
from layers.access.sessions import authenticate_session, is_session_token
from layers.collections import Bound, Collection, collection_for
from layers.errors import Unauthorized


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session from the app's factory; commit happens in the write paths that need it."""
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _bad_credentials() -> Unauthorized:
    return Unauthorized("the credentials are not valid", "kredensial tidak sah")


def get_principal(request: Request, session: SessionDep) -> Principal:
    """Return the caller from a session token or an API key (Bearer or X-API-Key), or HTTP Basic."""
    key = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if key is None and scheme.lower() == "bearer":
        key = value.strip()
    if key and is_session_token(key):  # "kds_...": a person signed in to the dashboard
        principal = authenticate_session(session.connection(), key)
        session.commit()
        if principal is None:
            raise _bad_credentials()
        return principal
    if key:
        principal = authenticate_key(session.connection(), key)
        session.commit()
        if principal is None:
            raise _bad_credentials()
        return principal
    if scheme.lower() == "basic":
        try:
            username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _bad_credentials() from None
        principal = authenticate_user(session.connection(), username, password)
        if principal is None:
            raise _bad_credentials()
        return principal
    return ANONYMOUS


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_lang(request: Request) -> str:
    """Return the response language ("id" by default, "en" on request)."""
    return request_lang(request)


LangDep = Annotated[str, Depends(get_lang)]


def collection_from_path(collection_id: str, principal: PrincipalDep) -> Collection:
    """Return the collection named in the path if the caller may see it (else 404, whatever the reason)."""
    return collection_for(principal, collection_id)


CollectionDep = Annotated[Collection, Depends(collection_from_path)]


def _binder(shared: Sequence[Param]) -> Callable[[Collection, Request, Session], Bound]:
    def bind(collection: CollectionDep, request: Request, session: SessionDep) -> Bound:
        values = own_values(request, names_for(shared, collection.info.kind))
        return collection.bind(session, values, datetime.now(UTC))

    return bind


ItemsDep = Annotated[Bound, Depends(_binder(ITEMS))]
DescribedDep = Annotated[Bound, Depends(_binder(DESCRIBE))]
ExportDep = Annotated[Bound, Depends(_binder(EXPORT))]
