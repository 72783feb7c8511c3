"""Exports for QGIS and spreadsheets, and a QGIS project that points at this server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy import Connection, Engine
from starlette.background import BackgroundTask

from api.deps import LangDep, PrincipalDep, SessionDep
from api.links import base_url
from api.params import MAX_LIMIT, MAX_OFFSET, bad, names_param
from api.routes.items import build_query
from layers.access.policy import Principal, field_view, layer_for, readable_layers
from layers.catalog.spec import LayerSpec
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
from layers.export.rows import ExportSource, Paging, layer_source
from layers.features.extent import combined_bbox
from layers.queries.access import readable_queries
from layers.queries.params import runs_with_defaults

router = APIRouter(tags=["Export"])

FormatName = Literal["gpkg", "shp", "geojson", "csv", "kml", "xlsx"]


def export_parameters(
    f: Annotated[FormatName, Query(description="gpkg, shp (zipped), geojson, csv, kml or xlsx.")],
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs.")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description="CRS URI of bbox.")] = None,
    datetime_: Annotated[str | None, Query(alias="datetime", description="Instant or interval.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="At most this many.")] = None,
    offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET, description="Skip this many.")] = None,
    sortby: Annotated[str | None, Query(description="Comma-separated queryables, - for descending.")] = None,
    properties: Annotated[str | None, Query(description="Comma-separated properties to export.")] = None,
    filter_: Annotated[str | None, Query(alias="filter", description="CQL2 filter expression.")] = None,
    filter_lang: Annotated[
        Literal["cql2-text", "cql2-json"] | None, Query(alias="filter-lang", description="Filter language.")
    ] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs", description="CRS URI of filter.")] = None,
    crs: Annotated[str | None, Query(description="CRS URI of the written geometries (not KML).")] = None,
    at: Annotated[str | None, Query(description="Time travel: the status at this instant.")] = None,
    lang: Annotated[Literal["id", "en"] | None, Query(description="Language of titles.")] = None,
) -> None:
    """Declare the export query parameters for the OpenAPI document; they are parsed like items."""


ExportParams = Annotated[None, Depends(export_parameters)]


def params_request(request: Request, params: Sequence[tuple[str, str]]) -> Request:
    """Return a request like `request` but with these query parameters (items parsing reads only them)."""
    scope = dict(request.scope, query_string=urlencode(list(params)).encode())
    return Request(scope)


def export_paging(request: Request, limit: int, offset: int) -> Paging:
    """Return the row window of an export: limit and offset only (an export has no pages)."""
    params = request.query_params
    if "cursor" in params:
        raise bad("cursor", "an export has no pages; use limit and offset", "ekspor tidak berhalaman")
    return Paging(limit if "limit" in params else None, offset)


def layer_export(conn: Connection, request: Request, layer: LayerSpec, principal: Principal) -> ExportSource:
    """Parse the items parameters of `request` for one layer and return its export source."""
    view = field_view(principal, layer)
    q, _ = build_query(request, layer, view)
    return layer_source(conn, layer, view, q, export_paging(request, q.limit, q.offset))


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


@router.get("/collections/{collection_id}/export", summary="Export a collection to a file")
def export_collection(
    collection_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
    _params: ExportParams,
) -> Response:
    """Export what the items path would return, every page of it, with live status as columns."""
    layer = layer_for(principal, collection_id)
    fmt = parse_format(request.query_params.get("f"))
    conn = session.connection()
    source = layer_export(conn, request, layer, principal)
    return respond(conn, request.app.state.engine, [source], fmt, lang)


@router.get("/export", summary="Export several collections into one GeoPackage")
def export_collections(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
    collections: Annotated[str, Query(description="Comma-separated collection ids.")],
    _params: ExportParams,
) -> Response:
    """Export several collections, each filtered like its items, as layers of one GeoPackage."""
    ids = list(dict.fromkeys(names_param("collections", collections)))
    layers = [layer_for(principal, layer_id) for layer_id in ids]
    fmt = parse_format(request.query_params.get("f"), multi_layer=True)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "collections"]
    per_layer = params_request(request, params)
    conn = session.connection()
    sources = [layer_export(conn, per_layer, layer, principal) for layer in layers]
    return respond(conn, request.app.state.engine, sources, fmt, lang)


@router.get("/qgis/project.{extension}", summary="A QGIS project of every layer the caller may see")
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
    """Export layers to a file exactly as the HTTP route would (the `kendali export` command)."""
    fmt = parse_format(fmt_name, multi_layer=len(layer_ids) > 1)
    layers = [layer_for(principal, layer_id) for layer_id in layer_ids]
    request = Request(
        {"type": "http", "query_string": urlencode(list(params.items())).encode(), "headers": []}
    )
    with engine.begin() as conn:
        sources = [layer_export(conn, request, layer, principal) for layer in layers]
        return write_file(conn, sources, fmt, target, lang)
