"""File upload into a layer: POST /collections/{collection_id}/import (multipart, one file)."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from api.deps import LangDep, PrincipalDep, SessionDep
from api.errors import problem, request_lang
from api.settings import ApiSettings
from geo.digits import whole_number
from ingest.importer import ImportOptions, ImportSettings, import_stream
from layers.catalog.spec import LayerSpec
from layers.editing import edits as editing

router = APIRouter(tags=["import"])

PATH: Final = "/collections/{collection_id}/import"
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


def import_settings(request: Request) -> ImportSettings:
    """Return the import limits the app was built with."""
    settings: ApiSettings = request.app.state.settings
    return settings.imports


def importable_collection(collection_id: str, principal: PrincipalDep) -> LayerSpec:
    """Return the collection if the caller may edit it (403), or may not even see it (404)."""
    return editing.editable_layer(principal, collection_id)


ImportableDep = Annotated[LayerSpec, Depends(importable_collection)]
ImportSettingsDep = Annotated[ImportSettings, Depends(import_settings)]
Crs = Annotated[str | None, Query(max_length=20, pattern=r"^(?i:epsg:)?[0-9]{1,6}$")]
Column = Annotated[str | None, Query(min_length=1, max_length=100)]


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


@router.post(PATH, summary="Import a file into a collection (upsert by external id)", openapi_extra=_BODY)
async def import_file(
    request: Request,
    layer: ImportableDep,
    session: SessionDep,
    principal: PrincipalDep,
    settings: ImportSettingsDep,
    lang: LangDep,
    dry_run: bool = False,
    skip_invalid: bool = False,
    crs: Crs = None,
    id_column: Column = None,
    name_column: Column = None,
    source_layer: Column = None,
) -> JSONResponse:
    """Import GeoJSON, GeoPackage, zipped Shapefile or CSV; any refused row keeps all out (422)."""
    upload = await _upload(request, settings.max_upload_bytes)
    options = ImportOptions(dry_run, skip_invalid, crs, id_column, name_column, source_layer)
    conn = session.connection()
    report = await run_in_threadpool(
        import_stream, conn, principal, layer.id, upload.file, upload.filename, options, settings
    )
    body: dict[str, Any] = report.as_json(lang)
    if report.committed:
        await run_in_threadpool(session.commit)
    elif not dry_run:
        detail = (
            "rows were refused; nothing was imported"
            if lang == "en"
            else "ada baris ditolak; tidak ada yang diimpor"
        )
        return problem(422, detail, lang, "import_rejected", report=body)
    return JSONResponse(body)
