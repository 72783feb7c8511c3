"""The API definition at /api, written for the caller, and its browsable documentation at /docs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import PrincipalDep
from api.openapi_caller import caller_document

router = APIRouter()

OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"


@router.get("/api", include_in_schema=False)
def openapi_document(request: Request, principal: PrincipalDep) -> JSONResponse:
    """Return the OpenAPI 3.0 document, naming only the collections the caller may see."""
    doc = caller_document(request.app.openapi(), principal)
    return JSONResponse(doc, media_type=OPENAPI_JSON, headers={"Vary": "Authorization, X-API-Key"})


@router.get("/docs", include_in_schema=False)
def api_docs() -> HTMLResponse:
    """Return the interactive API documentation, reading /api."""
    return get_swagger_ui_html(openapi_url="/api", title="kendali API")
