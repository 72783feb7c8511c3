"""Health and the landing document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import LangDep, PrincipalDep, SessionDep
from layers.db import database_facts
from layers.migrate import head_revision
from layers.policy import readable_layers

router = APIRouter()


@router.get("/health", summary="Server and database health")
def health(session: SessionDep) -> JSONResponse:
    """Report whether the database answers, its PostGIS version and the migration state."""
    facts = database_facts(session)
    expected = head_revision()
    ok = facts["revision"] == expected
    body = {
        "status": "ok" if ok else "degraded",
        "database": "reachable",
        "postgis": facts["postgis"],
        "migration": facts["revision"],
        "migration_head": expected,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/", summary="Landing document with links")
def landing(request: Request, principal: PrincipalDep, lang: LangDep) -> dict[str, Any]:
    """Describe the service and link to its parts."""
    base = str(request.base_url).rstrip("/")
    settings = request.app.state.settings
    return {
        "title": "kendali",
        "description": (
            f"Server GIS Command Center {settings.city_name}"
            if lang != "en"
            else f"GIS server of the {settings.city_name} Command Center"
        ),
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}/"},
            {
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
                "href": f"{base}/openapi.json",
            },
            {"rel": "service-doc", "type": "text/html", "href": f"{base}/docs"},
            {"rel": "status", "type": "application/json", "href": f"{base}/health"},
        ],
        "layers": [{"id": spec.id, "title": spec.title.pick(lang)} for spec in readable_layers(principal)],
    }
