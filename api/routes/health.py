"""Health and the landing document."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import SessionDep
from layers.db import database_facts
from layers.migrate import head_revision

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
