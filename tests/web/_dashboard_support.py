"""Until the lead registers the dashboard's routers and session sign-in, tests add them to an app here.

Once api/app.py includes them (web first) and api/deps.py resolves `kds_` tokens, both helpers change
nothing: routes already present are not added twice, and the principal resolver gives the same answer.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request

from api.app import create_app
from api.deps import SessionDep, get_principal
from api.routes import auth, counts, history, report, web
from api.settings import ApiSettings
from layers.errors import Unauthorized
from layers.policy import Principal
from layers.sessions import authenticate_session, is_session_token

ROUTERS = (web.router, auth.router, history.router, counts.router, report.router)


def principal_with_sessions(request: Request, session: SessionDep) -> Principal:
    """Resolve `Authorization: Bearer kds_...` as a session; anything else as api/deps.py does."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = value.strip()
    if scheme.lower() == "bearer" and is_session_token(token):
        principal = authenticate_session(session.connection(), token)
        session.commit()
        if principal is None:
            raise Unauthorized("the credentials are not valid", "kredensial tidak sah")
        return principal
    return get_principal(request, session)


def _included(app: FastAPI, router: APIRouter) -> bool:
    return any(getattr(r, "original_router", None) is router for r in app.router.routes)


def add_dashboard_routes(app: FastAPI) -> FastAPI:
    """Include the dashboard's routers first (so `/` for browsers wins over the landing page), once."""
    missing = [router for router in ROUTERS if not _included(app, router)]
    before = list(app.router.routes)
    for router in missing:
        app.include_router(router)
    added = [r for r in app.router.routes if r not in before]
    app.router.routes[:] = added + before
    app.router._mark_routes_changed()
    app.dependency_overrides[get_principal] = principal_with_sessions
    return app


# Routers of other issues the dashboard uses when they exist (tiles, styles, live stream, alerts, ...).
OPTIONAL = ("tiles", "styles", "basemaps", "rasters", "events", "alerts", "ingest", "export")


def add_optional_routes(app: FastAPI) -> FastAPI:
    """Include the other issues' routers that exist but are not registered yet, and their live services."""
    for name in OPTIONAL:
        try:
            module = importlib.import_module(f"api.routes.{name}")
        except Exception:  # noqa: S112 - a router still being written is simply left out
            continue
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter) and not _included(app, router):
            app.include_router(router)
    _with_live_services(app)
    return app


def _with_live_services(app: FastAPI) -> None:
    try:
        from api.background import live_services
    except Exception:  # noqa: BLE001 - no live services yet: /events answers 503
        return
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            if getattr(a.state, "event_hub", None) is not None:
                yield
                return
            async with live_services(a):
                yield

    app.router.lifespan_context = lifespan


def create_dashboard_app() -> FastAPI:
    """App factory for a real server in tests: kendali's app plus the dashboard's and other routes."""
    return add_optional_routes(add_dashboard_routes(create_app(ApiSettings())))
