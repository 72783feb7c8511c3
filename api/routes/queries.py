"""Query layers over HTTP: collections with described parameters, and their items, tiles, exports, summary.

Routes match only query-layer ids (the `query` path convertor), so stored layers keep their own routes.
Every non-standard query parameter is a parameter of the query layer, validated by its declaration.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from shapely.geometry.base import BaseGeometry
from starlette.background import BackgroundTask
from starlette.convertors import Convertor, register_url_convertor

from api.deps import LangDep, PrincipalDep, SessionDep
from api.html import html_document
from api.links import GEOJSON, HTML, JSON, base_url, link, wants_html
from api.routes.export import export_paging
from api.routes.items import feature_query, no_repeats, page_response
from api.routes.tiles import MVT, TILE_RESPONSES, VARY, check_tms, tile_response
from geo.crs import CRS84_URI, crs_uri, supported_crs_uris
from geo.digits import signed_whole_number
from geo.tiles import TMS_ID, TMS_URI, InvalidTile, TileKey, parse_tile
from layers.access.policy import Principal
from layers.catalog.spec import Access
from layers.errors import FeatureNotFound, InvalidInput, LayerNotFound
from layers.export.formats import FORMATS, parse_format, remove_temp, write_temp
from layers.queries.access import query_for, readable_queries
from layers.queries.catalog import QUERIES
from layers.queries.export import answer_source
from layers.queries.params import describe_params
from layers.queries.serve import (
    Answer,
    answer_queryables,
    fetch_feature,
    fetch_page,
    fetch_tile,
    limit_time,
    run_query,
    tile_fields,
)
from layers.queries.spec import QueryContext, QuerySpec
from layers.tiles.cache import Tile

router = APIRouter(tags=["Query layers"])

FEATURE_PARAMS = frozenset(
    {"f", "lang", "bbox", "bbox-crs", "limit", "cursor", "offset", "sortby", "properties", "filter"}
    | {"filter-lang", "filter-crs", "crs"}
)
TILE_PARAMS = frozenset({"f", "lang"})
_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
}


class QueryId(Convertor[str]):
    """Matches only the ids of query layers."""

    regex = "|".join(sorted(QUERIES, key=len, reverse=True)) or "(?!)"

    def convert(self, value: str) -> str:
        """Return the id as is."""
        return value

    def to_string(self, value: str) -> str:
        """Return the id as is."""
        return value


register_url_convertor("query", QueryId())


def _spec(principal: Principal, query_id: str) -> QuerySpec:
    spec = query_for(principal, query_id)
    if spec is None:
        raise LayerNotFound(query_id)
    return spec


def _values(request: Request, standard: frozenset[str]) -> dict[str, str]:
    no_repeats(request)
    return {k: v for k, v in request.query_params.items() if k not in standard}


def _run(
    request: Request, session: SessionDep, principal: Principal, spec: QuerySpec, standard: frozenset[str]
) -> tuple[Answer, QueryContext]:
    """Validate the parameters, build the answer and bound what follows by the query's time limit."""
    ctx = QueryContext(session.connection(), principal, datetime.now(UTC))
    answer = run_query(ctx, spec, _values(request, standard))
    session.commit()  # keep what building cached (flood zones), even on a read
    limit_time(session.connection(), answer)
    return answer, QueryContext(session.connection(), principal, ctx.now)


def _echo(answer: Answer) -> dict[str, Any]:
    """Return the parameters the answer was computed with, as JSON values."""
    out: dict[str, Any] = {}
    for name, value in answer.params.model_dump().items():
        if isinstance(value, BaseGeometry):
            out[name] = value.wkt
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out


def query_collection_doc(request: Request, spec: QuerySpec, lang: str) -> dict[str, Any]:
    """Return the collection description of a query layer, with its parameters as JSON Schema."""
    base = f"{base_url(request)}/collections/{spec.id}"
    # Links carry the query's parameters given here, so a client (GDAL, QGIS) that opens
    # /collections/in_area?district=3 reads that answer when it follows them.
    given = [(k, v) for k, v in request.query_params.multi_items() if k in spec.params.model_fields]
    carried = f"?{urlencode(given)}" if given and request.url.path.endswith(spec.id) else ""
    joined = f"&{urlencode(given)}" if carried else ""
    links = [
        link(f"{base}{carried}", "self", JSON, spec.title.pick(lang)),
        link(f"{base}?f=html{joined}", "alternate", HTML),
        link(f"{base}/items{carried}", "items", GEOJSON, "features"),
        link(
            f"{base}/queryables{carried}",
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "application/schema+json",
        ),
        link(
            f"{base}/tiles", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", JSON, "vector tilesets"
        ),
        link(f"{base}/export?f=gpkg{joined}", "enclosure", "application/geopackage+sqlite3", "GeoPackage"),
    ]
    if spec.summary is not None:
        links.append(link(f"{base}/summary{carried}", "describedby", JSON, "summary"))
    return {
        "id": spec.id,
        "title": spec.title.pick(lang),
        "description": spec.description.pick(lang),
        "itemType": "feature",
        "crs": supported_crs_uris(),
        "storageCrs": CRS84_URI,
        "kendali:kind": "query",
        "kendali:geometry": spec.geometry.value,
        "kendali:owner": spec.owner,
        "kendali:access": spec.access.value,
        "kendali:style": spec.style.as_json(),
        "kendali:styleAttribute": spec.style_attribute,
        "kendali:labels": {value: title.pick(lang) for value, title in spec.labels.items()},
        "kendali:parameters": describe_params(spec.params, lang),
        "kendali:timeLimitSeconds": spec.time_limit_s,
        "links": links,
    }


def query_collection_docs(request: Request, principal: Principal, lang: str) -> list[dict[str, Any]]:
    """Return the collection descriptions of every query layer the caller may run."""
    return [query_collection_doc(request, spec, lang) for spec in readable_queries(principal)]


@router.get("/collections/{query_id:query}", summary="A query layer and its parameters")
def query_collection(query_id: str, request: Request, principal: PrincipalDep, lang: LangDep) -> Response:
    """Describe a query layer: what it answers, its parameters (JSON Schema), style and links."""
    spec = _spec(principal, query_id)
    doc = query_collection_doc(request, spec, lang)
    return html_document(spec.title.pick(lang), doc, lang) if wants_html(request) else JSONResponse(doc)


@router.get(
    "/collections/{query_id:query}/queryables", summary="Queryable properties of a query layer's answer"
)
def query_queryables(
    query_id: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> Response:
    """Return the answer's columns as JSON Schema (they may depend on the parameters, e.g. density)."""
    spec = _spec(principal, query_id)
    answer, _ = _run(request, session, principal, spec, FEATURE_PARAMS)
    props: dict[str, Any] = {
        c.name: dict(
            _SCHEMA_TYPES[c.kind], title=c.title.pick(lang), **({"x-unit": c.unit} if c.unit else {})
        )
        for c in answer.columns
    }
    props["geometry"] = {"format": f"geometry-{spec.geometry.value}", "x-ogc-role": "primary-geometry"}
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url(request)}/collections/{spec.id}/queryables",
        "type": "object",
        "title": spec.title.pick(lang),
        "properties": props,
        "additionalProperties": False,
    }
    if wants_html(request):
        return html_document(spec.title.pick(lang), doc, lang)
    return JSONResponse(doc, media_type="application/schema+json")


@router.get("/collections/{query_id:query}/items", summary="The answer of a query layer")
def query_items(
    query_id: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> Response:
    """Run the query with its parameters and return a page of the answer, filtered and paged like items."""
    spec = _spec(principal, query_id)
    answer, ctx = _run(request, session, principal, spec, FEATURE_PARAMS)
    q, crs = feature_query(request, answer_queryables(answer))
    page, matched = fetch_page(ctx.conn, answer, q)
    extra: dict[str, Any] = {
        "kendali:parameters": _echo(answer),
        "kendali:columns": {c.name: {"title": c.title.pick(lang), "unit": c.unit} for c in answer.columns},
    }
    first_page = q.after_id is None and q.before_id is None and q.offset == 0
    if spec.summary is not None and first_page:  # later pages (a client paging through) skip the re-count
        extra["kendali:summary"] = spec.summary(ctx, answer.params)
    return page_response(request, spec.id, spec.title.pick(lang), lang, q, page, matched, crs, extra)


@router.get(
    "/collections/{query_id:query}/items/{feature_id}", summary="One feature of a query layer's answer"
)
def query_item(
    query_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> Response:
    """Return one feature of the answer (ids are stable for the same data and parameters)."""
    spec = _spec(principal, query_id)
    answer, ctx = _run(request, session, principal, spec, FEATURE_PARAMS)
    q, crs = feature_query(request, answer_queryables(answer))
    number = signed_whole_number(feature_id)
    if number is None:
        raise FeatureNotFound(spec.id, feature_id[:40])
    text = fetch_feature(ctx.conn, answer, number, q)
    if text is None:
        raise FeatureNotFound(spec.id, number)
    feature = json.loads(text)
    if wants_html(request):
        return html_document(spec.title.pick(lang), feature, lang, [feature["properties"]])
    return Response(
        json.dumps(feature, separators=(",", ":")), media_type=GEOJSON, headers={"Content-Crs": f"<{crs}>"}
    )


@router.get("/collections/{query_id:query}/summary", summary="Summary of a query layer's answer")
def query_summary(
    query_id: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> Response:
    """Return the query's summary of its answer (for example counts per layer of what lies in an area)."""
    spec = _spec(principal, query_id)
    if spec.summary is None:
        raise LayerNotFound(f"{query_id}/summary")
    answer, ctx = _run(request, session, principal, spec, FEATURE_PARAMS)
    doc = {"id": spec.id, "parameters": _echo(answer), "summary": spec.summary(ctx, answer.params)}
    return html_document(spec.title.pick(lang), doc, lang) if wants_html(request) else JSONResponse(doc)


def _key(z: str, x: str, y: str) -> TileKey:
    try:
        return parse_tile(z, x, y)
    except InvalidTile as exc:
        raise InvalidInput(str(exc), exc.reason_id, parameter="z/x/y") from None


def _tile(
    request: Request, session: SessionDep, principal: Principal, spec: QuerySpec, key: TileKey
) -> Response:
    answer, ctx = _run(request, session, principal, spec, TILE_PARAMS)
    tile = Tile.of(fetch_tile(ctx.conn, answer, key), live=True)
    return tile_response(request, tile, public=spec.access is Access.PUBLIC)


@router.get(
    "/tiles/{query_id:query}/{z}/{x}/{y}.mvt",
    summary="Vector tile of a query layer",
    responses=TILE_RESPONSES,
)
def query_xyz_tile(
    query_id: str, z: str, x: str, y: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Return the answer's Mapbox Vector Tile; the query's parameters go in the query string."""
    spec = _spec(principal, query_id)
    return _tile(request, session, principal, spec, _key(z, x, y))


def _params_suffix(request: Request) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in TILE_PARAMS]
    return f"?{urlencode(params)}" if params else ""


@router.get("/tiles/{query_id:query}.json", summary="TileJSON 3.0 of a query layer")
def query_tilejson(
    query_id: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> JSONResponse:
    """Describe the answer's vector tiles; the tile URL carries the same query parameters."""
    spec = _spec(principal, query_id)
    answer, _ = _run(request, session, principal, spec, TILE_PARAMS)
    doc = {
        "tilejson": "3.0.0",
        "name": spec.title.pick(lang),
        "description": spec.description.pick(lang),
        "scheme": "xyz",
        "tiles": [f"{base_url(request)}/tiles/{spec.id}/{{z}}/{{x}}/{{y}}.mvt{_params_suffix(request)}"],
        "minzoom": 0,
        "maxzoom": 22,
        "vector_layers": [
            {"id": spec.id, "description": spec.title.pick(lang), "fields": tile_fields(answer)}
        ],
    }
    return JSONResponse(doc, headers={"Vary": VARY, "Cache-Control": "private, max-age=5"})


@router.get("/collections/{query_id:query}/tiles", summary="Tilesets of a query layer")
def query_tilesets(query_id: str, request: Request, principal: PrincipalDep, lang: LangDep) -> JSONResponse:
    """List the answer's vector tileset (WebMercatorQuad)."""
    spec = _spec(principal, query_id)
    base = base_url(request)
    tileset = f"{base}/collections/{spec.id}/tiles/{TMS_ID}"
    template = f"{tileset}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    summary = {
        "title": spec.title.pick(lang),
        "dataType": "vector",
        "crs": crs_uri(3857),
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(tileset, "self", JSON, f"{spec.title.pick(lang)} ({TMS_ID})"),
            link(
                f"{base}/tileMatrixSets/{TMS_ID}",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                JSON,
            ),
            link(template, "item", MVT, "Mapbox Vector Tile", templated=True),
        ],
    }
    doc = {"links": [link(f"{base}/collections/{spec.id}/tiles", "self", JSON)], "tilesets": [summary]}
    return JSONResponse(doc, headers={"Vary": VARY})


@router.get(
    "/collections/{query_id:query}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="Vector tile of a query layer (OGC API – Tiles)",
    responses=TILE_RESPONSES,
)
def query_ogc_tile(
    query_id: str,
    tms_id: str,
    tile_matrix: str,
    tile_row: str,
    tile_col: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> Response:
    """Return the answer's tile in the OGC order: zoom, row (y), column (x)."""
    spec = _spec(principal, query_id)
    check_tms(tms_id, lang)
    return _tile(request, session, principal, spec, _key(tile_matrix, tile_col, tile_row))


@router.get("/collections/{query_id:query}/export", summary="Export a query layer's answer to a file")
def query_export(
    query_id: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> Response:
    """Export the whole answer (filtered like items) as gpkg, shp, geojson, csv, kml or xlsx."""
    spec = _spec(principal, query_id)
    fmt = parse_format(request.query_params.get("f"))
    answer, ctx = _run(request, session, principal, spec, FEATURE_PARAMS)
    q, _ = feature_query(request, answer_queryables(answer))
    source = answer_source(answer, q, export_paging(request, q.limit, q.offset))
    path = write_temp(ctx.conn, [source], fmt, lang)
    return FileResponse(
        path,
        media_type=FORMATS[fmt].media_type,
        filename=path.name,
        background=BackgroundTask(remove_temp, path),
    )
