"""Health and the landing document."""

from __future__ import annotations

import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import SessionDep
from layers.db import database_facts
from layers.migrate import head_revision

router = APIRouter()


@router.get("/health", summary="Server and database health")
def health(session: SessionDep) -> JSONResponse:
    """Report whether the database answers, its PostGIS version, the migration state and this worker's PID."""
    facts = database_facts(session)
    expected = head_revision()
    ok = facts["revision"] == expected
    body = {
        "status": "ok" if ok else "degraded",
        "database": "reachable",
        "postgis": facts["postgis"],
        "migration": facts["revision"],
        "migration_head": expected,
        "pid": os.getpid(),  # which of `kendali serve --workers N` processes answered
    }
    return JSONResponse(body, status_code=200 if ok else 503)
