"""Sign-in for people: a session token for the dashboard, sign-out, and who the caller is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import LangDep, PrincipalDep, SessionDep
from layers.access.policy import Action, Principal, allows, readable_layers
from layers.access.sessions import close_session, display_name, open_session
from layers.catalog.agencies import AGENCIES
from layers.errors import Unauthorized

router = APIRouter(tags=["auth"])

NO_STORE = {"Cache-Control": "no-store"}


class Login(BaseModel):
    """Credentials of a person signing in."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


def describe(principal: Principal, name: str, lang: str) -> dict[str, Any]:
    """Return what the dashboard needs to know about a caller: roles and which layers they see or edit."""
    visible = readable_layers(principal)
    return {
        "username": principal.name,
        "display_name": name,
        "kind": principal.kind,
        "roles": sorted(principal.roles),
        "agency": principal.agency,
        "layers": [{"id": s.id, "title": s.title.pick(lang)} for s in visible],
        "editable": [s.id for s in visible if allows(principal, Action.EDIT, s)],
        "agencies": {s.owner: AGENCIES[s.owner].name.pick(lang) for s in visible if s.owner in AGENCIES},
    }


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


@router.post("/auth/login", summary="Sign in and receive a session token")
def login(body: Login, session: SessionDep, lang: LangDep) -> JSONResponse:
    """Check a username and password; return an opaque token to send as `Authorization: Bearer`."""
    opened = open_session(session.connection(), body.username, body.password)
    if opened is None:
        raise Unauthorized("wrong username or password", "nama pengguna atau kata sandi salah")
    session.commit()
    doc = {
        "token": opened.token,
        "token_type": "Bearer",
        "expires_at": opened.expires_at.isoformat(),
        "user": describe(opened.principal, opened.display_name, lang),
    }
    return JSONResponse(doc, headers=NO_STORE)


@router.post("/auth/logout", status_code=204, summary="Close the caller's session")
def logout(request: Request, session: SessionDep) -> Response:
    """Revoke the session token the request carries (no-op for other credentials)."""
    close_session(session.connection(), _bearer(request))
    session.commit()
    return Response(status_code=204, headers=NO_STORE)


@router.get("/auth/me", summary="Who the caller is and what they may see")
def me(principal: PrincipalDep, session: SessionDep, lang: LangDep) -> JSONResponse:
    """Describe the caller (anonymous included): roles, agency, visible and editable layers."""
    name = display_name(session.connection(), principal.name) if principal.kind == "user" else principal.name
    return JSONResponse(describe(principal, name, lang), headers=NO_STORE)
