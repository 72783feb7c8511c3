"""Live status pushed over HTTP: `POST /ingest/status` with a JSON batch, answered after commit."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.deps import LangDep, PrincipalDep, SessionDep
from api.errors import request_lang
from ingest import http_push
from layers.access.policy import Principal
from layers.live.events import recording
from layers.live.report_input import MAX_ASSET_ID, TEXT_LIMITS
from layers.live.retire import retire_committed

router = APIRouter(tags=["ingest"])

JSON_TYPES: Final = ("application/json",)
_REPORT_SCHEMA: Final = {
    "type": "object",
    "required": ["status", "observed_at"],
    "properties": {
        "asset_id": {"type": "integer", "minimum": 1, "maximum": MAX_ASSET_ID},
        "layer": {"type": "string", "maxLength": TEXT_LIMITS["layer"]},
        "external_id": {"type": "string", "maxLength": TEXT_LIMITS["external_id"]},
        "status": {"type": "string", "maxLength": TEXT_LIMITS["status"]},
        "value": {"type": "number", "nullable": True},
        "observed_at": {"type": "string", "format": "date-time"},
        "source": {"type": "string", "maxLength": TEXT_LIMITS["source"]},
        "details": {"type": "object"},
    },
    "additionalProperties": False,
}
_BATCH_SCHEMA: Final = {
    "oneOf": [
        {"type": "array", "items": _REPORT_SCHEMA, "maxItems": http_push.MAX_REPORTS},
        {
            "type": "object",
            "required": ["reports"],
            "properties": {"reports": {"type": "array", "items": _REPORT_SCHEMA}},
        },
    ]
}
_BODY: Final = {"requestBody": {"required": True, "content": {"application/json": {"schema": _BATCH_SCHEMA}}}}


class ReportOutcome(BaseModel):
    """What happened to one report of the batch."""

    index: int
    outcome: Literal["accepted", "duplicate", "rejected"]
    asset_id: int | None
    reason: str | None


class PushResult(BaseModel):
    """Counts and one outcome per report, in the order of the batch."""

    accepted: int
    duplicates: int
    rejected: int
    results: list[ReportOutcome]


def reporter(principal: PrincipalDep) -> Principal:
    """Return the caller if it may report status for some layer (401 for nobody, 403 for no layer)."""
    return http_push.check_reporter(principal)


async def raw_json_body(request: Request) -> bytes:
    """Return the raw JSON body (its size is bounded by the body-limit middleware: 413)."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in JSON_TYPES and not media.endswith("+json"):
        english = request_lang(request) == "en"
        raise HTTPException(
            415, "send the body as application/json" if english else "kirim isi sebagai application/json"
        )
    return await request.body()


ReporterDep = Annotated[Principal, Depends(reporter)]
RawJsonDep = Annotated[bytes, Depends(raw_json_body)]


@router.post(
    "/ingest/status",
    summary="Push a batch of live status reports",
    openapi_extra=_BODY,
    responses={200: {"model": PushResult}},
)
def push_status(principal: ReporterDep, body: RawJsonDep, session: SessionDep, lang: LangDep) -> JSONResponse:
    """Store up to 10,000 reports; bad reports are rejected one by one, and the answer comes after commit."""
    with recording() as recorded:
        try:
            summary = http_push.push_status(session.connection(), principal, body)
        except http_push.BatchTooLarge as exc:
            raise HTTPException(413, exc.message(lang)) from None
        session.commit()
    retire_committed(recorded)  # this worker's next tile shows the change; its hub retires them again
    body_out: dict[str, Any] = summary.as_json(lang)
    return JSONResponse(body_out)
