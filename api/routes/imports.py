"""File upload into a layer, and the jobs that run large ones in the background.

POST /collections/{collection_id}/import takes one file (multipart). A small upload is imported while the
client waits (200, or 422 when rows were refused) and stops, writing nothing, if the client goes away; a
large one (over KENDALI_IMPORT_BACKGROUND_BYTES, or any with `background=true`) is answered at once with
202 and `Location: /imports/{job_id}`. GET /imports/{job_id} tells the job's state and progress, and its
report when it has finished; DELETE cancels it. A job is visible to the caller who started it and to admins.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Final, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from api.deps import LangDep, PrincipalDep, SessionDep
from api.errors import problem, request_lang
from api.settings import ApiSettings
from geo.digits import whole_number
from ingest.import_jobs import ImportJobs
from ingest.importer import (
    Control,
    ImportCancelled,
    ImportOptions,
    ImportSettings,
    import_stream,
    report_json,
)
from layers.access.policy import Principal
from layers.catalog.spec import LayerSpec
from layers.editing import edits as editing
from layers.editing import import_jobs as jobs
from layers.errors import Conflict

log = logging.getLogger(__name__)
router = APIRouter(tags=["import"])

PATH: Final = "/collections/{collection_id}/import"
JOB_PATH: Final = "/imports/{job_id}"
WATCH_S: Final = 0.25  # how often a synchronous import looks whether its client is still there
_BODY: Final = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
T = TypeVar("T")


def import_settings(request: Request) -> ImportSettings:
    """Return the import limits the app was built with."""
    settings: ApiSettings = request.app.state.settings
    return settings.imports


def import_runner(request: Request) -> ImportJobs:
    """Return the app's import job runner."""
    runner: ImportJobs = request.app.state.import_jobs
    return runner


def importable_collection(collection_id: str, principal: PrincipalDep) -> LayerSpec:
    """Return the collection if the caller may edit it (403), or may not even see it (404)."""
    return editing.editable_layer(principal, collection_id)


ImportableDep = Annotated[LayerSpec, Depends(importable_collection)]
ImportSettingsDep = Annotated[ImportSettings, Depends(import_settings)]
RunnerDep = Annotated[ImportJobs, Depends(import_runner)]
Crs = Annotated[str | None, Query(max_length=20, pattern=r"^(?i:epsg:)?[0-9]{1,6}$")]
Column = Annotated[str | None, Query(min_length=1, max_length=100)]
Background = Annotated[
    bool | None,
    Query(
        description="true: run as a job (202, Location: /imports/{id}); false: answer when done; "
        "unset: a job when the upload is larger than the server's threshold."
    ),
]


def _refusal(request: Request, status: int, message_en: str, message_id: str) -> HTTPException:
    return HTTPException(status, message_en if request_lang(request) == "en" else message_id)


async def _upload(request: Request, limit: int) -> UploadFile:
    """Return the one uploaded file, refusing a body past `limit` bytes with 413."""
    declared = request.headers.get("content-length", "")
    too_large = _refusal(
        request, 413, f"the upload is larger than {limit} bytes", f"unggahan melebihi {limit} bita"
    )
    length = whole_number(declared, 19)
    if length is not None and length > limit:
        raise too_large
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise _refusal(
            request, 415, "send the file as multipart/form-data", "kirim berkas sebagai multipart/form-data"
        )
    form = await request.form(max_files=1, max_fields=8)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise _refusal(request, 400, "the form needs a 'file' part", "formulir memerlukan bagian 'file'")
    if upload.size is not None and upload.size > limit:
        raise too_large
    return upload


async def _watched(request: Request, cancel: threading.Event, call: Callable[[], T]) -> T:
    """Run a blocking call on a worker thread; set `cancel` as soon as the client goes away."""
    task = asyncio.ensure_future(run_in_threadpool(call))
    while True:
        done, _ = await asyncio.wait({task}, timeout=WATCH_S)
        if done:
            return task.result()
        if not cancel.is_set() and await request.is_disconnected():
            cancel.set()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _job_json(job: jobs.ImportJob, lang: str) -> dict[str, Any]:
    error = job.error
    return {
        "id": str(job.id),
        "collection": job.layer_id,
        "state": job.state,
        "dry_run": job.dry_run,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "percent": job.percent,
        "cancel_requested": job.cancel_requested,
        "created": _iso(job.created_at),
        "started": _iso(job.started_at),
        "finished": _iso(job.finished_at),
        "report": None if job.report is None else report_json(job.report, lang),
        "error": None
        if error is None
        else {"code": error["code"], "detail": error["message_en" if lang == "en" else "message_id"]},
        "links": [
            {"rel": "self", "href": JOB_PATH.format(job_id=job.id), "type": "application/json"},
            {"rel": "collection", "href": f"/collections/{job.layer_id}", "type": "application/json"},
        ],
    }


def _visible_job(
    session: SessionDep, principal: Principal, settings: ImportSettings, job_id: uuid.UUID, lang: str
) -> jobs.ImportJob:
    """Return the job after failing it if its process died; 404 unless the caller started it or is admin."""
    if jobs.fail_orphans(session.connection(), timedelta(seconds=settings.job_stale_s), job_id):
        session.commit()
    job = jobs.get_job(session.connection(), job_id)
    if job is None or not (principal.is_admin or job.actor == principal.name):
        en, id_ = f"import job {job_id} not found", f"pekerjaan impor {job_id} tidak ditemukan"
        raise HTTPException(404, en if lang == "en" else id_)
    return job


def _in_background(choice: bool | None, upload: UploadFile, settings: ImportSettings) -> bool:
    if choice is not None:
        return choice
    return (upload.size or 0) > settings.background_bytes


@router.post(
    PATH,
    summary="Import a file into a collection (upsert by external id)",
    openapi_extra=_BODY,
    responses={202: {"description": "The import runs as a job; follow the Location header."}},
)
async def import_file(
    request: Request,
    layer: ImportableDep,
    session: SessionDep,
    principal: PrincipalDep,
    settings: ImportSettingsDep,
    runner: RunnerDep,
    lang: LangDep,
    dry_run: bool = False,
    skip_invalid: bool = False,
    crs: Crs = None,
    id_column: Column = None,
    name_column: Column = None,
    source_layer: Column = None,
    background: Background = None,
) -> JSONResponse:
    """Import GeoJSON, GeoPackage, zipped Shapefile or CSV; any refused row keeps all out (422)."""
    upload = await _upload(request, settings.max_upload_bytes)
    options = ImportOptions(dry_run, skip_invalid, crs, id_column, name_column, source_layer)
    if _in_background(background, upload, settings):
        job_id = await run_in_threadpool(
            runner.submit, principal, layer.id, upload.file, upload.filename, options
        )
        job = await run_in_threadpool(_visible_job, session, principal, settings, job_id, lang)
        location = JOB_PATH.format(job_id=job_id)
        return JSONResponse(_job_json(job, lang), status_code=202, headers={"Location": location})
    conn = session.connection()
    cancel = threading.Event()
    control = Control(cancelled=cancel.is_set)
    try:
        report = await _watched(
            request,
            cancel,
            lambda: import_stream(
                conn, principal, layer.id, upload.file, upload.filename, options, settings, control
            ),
        )
        if cancel.is_set():
            raise ImportCancelled
    except ImportCancelled:
        await run_in_threadpool(session.rollback)  # nothing kept, and the layer's import lock is free
        log.warning("import into %s stopped: the client went away; rolled back", layer.id)
        detail = (
            "the client went away; nothing was imported"
            if lang == "en"
            else "klien terputus; tidak ada yang diimpor"
        )
        return problem(400, detail, lang, "import_cancelled")
    body: dict[str, Any] = report.as_json(lang)
    if report.committed:
        await run_in_threadpool(session.commit)
    elif not dry_run:
        await run_in_threadpool(session.rollback)
        detail = (
            "rows were refused; nothing was imported"
            if lang == "en"
            else "ada baris ditolak; tidak ada yang diimpor"
        )
        return problem(422, detail, lang, "import_rejected", report=body)
    return JSONResponse(body)


@router.get(JOB_PATH, summary="State, progress and report of an import job")
def import_job(
    job_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    settings: ImportSettingsDep,
    lang: LangDep,
) -> dict[str, Any]:
    """Return the job: queued, running (rows_done of rows_total), or how it ended, with its report."""
    return _job_json(_visible_job(session, principal, settings, job_id, lang), lang)


@router.delete(
    JOB_PATH,
    summary="Cancel an import job",
    status_code=202,
    responses={409: {"description": "The job has already finished."}},
)
def cancel_import_job(
    job_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    settings: ImportSettingsDep,
    runner: RunnerDep,
    lang: LangDep,
) -> dict[str, Any]:
    """Stop a queued or running job; it ends `cancelled` with nothing written (poll the job to see it)."""
    job = _visible_job(session, principal, settings, job_id, lang)
    if not jobs.request_cancel(session.connection(), job.id):
        raise Conflict(
            f"import job {job_id} has already finished ({job.state})",
            f"pekerjaan impor {job_id} sudah selesai ({job.state})",
        )
    session.commit()
    runner.cancel(job.id)
    return _job_json(_visible_job(session, principal, settings, job_id, lang), lang)
