"""Exports for QGIS and spreadsheets, and a QGIS project that points at this server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from api.deps import CollectionDep, LangDep, PrincipalDep, SessionDep
from api.feature_params import (
    EXPORT,
    EXPORT_FORMAT,
    Param,
    feature_query,
    names_for,
    openapi_parameters,
    own_values,
    params_request,
)
from api.links import answers, base_url
from api.params import bad
from api.routes.items import PROBLEMS
from layers.access.policy import Principal, readable_layers
from layers.collections import MAX_EXPORT_LAYERS, Collection, collections_for, parse_ids
from layers.export.formats import (
    FORMATS,
    Format,
    parse_format,
    remove_temp,
    safe_filename,
    streamed,
    write_file,
    write_temp,
)
from layers.export.qgis_project import project_archive, project_document
from layers.export.rows import ExportSource, Paging
from layers.features.extent import combined_bbox
from layers.queries.access import readable_queries
from layers.queries.params import runs_with_defaults

router = APIRouter(tags=["Export"])

COLLECTIONS = Param(
    "collections", "Comma-separated collection ids.", {"type": "string", "minLength": 1, "maxLength": 3_400}
)


def export_paging(request: Request, limit: int, offset: int) -> Paging:
    """Return the row window of an export: limit and offset only (an export has no pages)."""
    params = request.query_params
    if "cursor" in params:
        raise bad("cursor", "an export has no pages; use limit and offset", "ekspor tidak berhalaman")
    return Paging(limit if "limit" in params else None, offset)


def _bind_export(
    session: Session, request: Request, collections: Sequence[Collection], now: datetime
) -> list[ExportSource]:
    """Bind each collection to the request's own parameters and return its export source."""
    sources = []
    for collection in collections:
        values = own_values(request, names_for(EXPORT, collection.info.kind) | {"f"})
        bound = collection.bind(session, values, now)
        q, _ = feature_query(request, bound)
        sources.append(bound.export(q, export_paging(request, q.limit, q.offset)))
    return sources


def respond(
    conn: Connection, engine: Engine, sources: Sequence[ExportSource], fmt: Format, lang: str
) -> Response:
    """Stream a streamed format from its own connection, or write a file format to disk and send it."""
    info = FORMATS[fmt]
    name = safe_filename(sources[0].name if len(sources) == 1 else "kendali", fmt)
    if info.streamed:
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return StreamingResponse(
            streamed(engine, sources[0], fmt, lang), media_type=info.media_type, headers=headers
        )
    path = write_temp(conn, sources, fmt, lang)
    return FileResponse(
        path, media_type=info.media_type, filename=name, background=BackgroundTask(remove_temp, path)
    )


@router.get(
    "/collections/{collection_id}/export",
    summary="Export a collection to a file",
    openapi_extra=openapi_parameters([EXPORT_FORMAT, *EXPORT], required_format=True),
    responses=answers(*(info.media_type for info in FORMATS.values()), more=PROBLEMS),
)
def export_collection(
    request: Request, session: SessionDep, collection: CollectionDep, lang: LangDep
) -> Response:
    """Export what the items path would return, every page of it, with live status as columns."""
    fmt = parse_format(request.query_params.get("f"))
    sources = _bind_export(session, request, [collection], datetime.now(UTC))
    return respond(session.connection(), request.app.state.engine, sources, fmt, lang)


@router.get(
    "/export",
    summary="Export several collections into one GeoPackage",
    openapi_extra=openapi_parameters([EXPORT_FORMAT, COLLECTIONS, *EXPORT], required_format=True),
    responses=answers(*(info.media_type for info in FORMATS.values()), more=PROBLEMS),
)
def export_collections(
    request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> Response:
    """Export several collections, each filtered like its items, as layers of one GeoPackage."""
    ids = parse_ids(request.query_params.get("collections", ""), "collections", MAX_EXPORT_LAYERS)
    collections = collections_for(principal, ids)
    fmt = parse_format(request.query_params.get("f"), multi_layer=True)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "collections"]
    sources = _bind_export(session, params_request(request, params), collections, datetime.now(UTC))
    return respond(session.connection(), request.app.state.engine, sources, fmt, lang)


@router.get(
    "/qgis/project.{extension}",
    summary="A QGIS project of every layer the caller may see",
    responses=answers("application/x-qgis-project", "application/zip"),
)
def qgis_project(
    extension: Literal["qgs", "qgz"],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> Response:
    """Return a QGIS project of OGC API – Features and vector-tile layers of this server; no secret inside."""
    layers = readable_layers(principal)
    queries = [spec for spec in readable_queries(principal) if runs_with_defaults(spec.params)]
    bbox = combined_bbox(session.connection(), layers)
    document = project_document(base_url(request), layers, lang, bbox, queries)
    disposition = {"Content-Disposition": f'attachment; filename="kendali.{extension}"'}
    if extension == "qgz":
        return Response(project_archive(document), media_type="application/zip", headers=disposition)
    return Response(document, media_type="application/x-qgis-project", headers=disposition)


def export_to_path(
    engine: Engine,
    principal: Principal,
    layer_ids: Sequence[str],
    fmt_name: str,
    params: Mapping[str, str],
    target: Path,
    lang: str = "id",
) -> int | None:
    """Export collections to a file exactly as the HTTP route would (the `kendali export` command)."""
    fmt = parse_format(fmt_name, multi_layer=len(layer_ids) > 1)
    collections = collections_for(principal, layer_ids)
    request = Request(
        {"type": "http", "query_string": urlencode(list(params.items())).encode(), "headers": []}
    )
    with Session(engine) as session:
        sources = _bind_export(session, request, collections, datetime.now(UTC))
        written = write_file(session.connection(), sources, fmt, target, lang)
        session.commit()
        return written
