"""Vector tiles: XYZ with composite layers, TileJSON 3.0, and OGC API – Tiles paths over WebMercatorQuad."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.deps import CollectionDep, LangDep, PrincipalDep, SessionDep
from api.feature_params import TILE, names_for, openapi_parameters, own_values
from api.links import JSON, base_url, link
from api.routes.items import PROBLEMS
from geo.crs import CRS84_URI, crs_uri
from geo.kinds import GeometryKind
from geo.tiles import TMS_ID, TMS_URI, TileKey, span_lonlat, tile_matrix_set_json
from layers.access.policy import Principal
from layers.catalog.spec import Access
from layers.collections import (
    MAX_TILE_LAYERS,
    Bound,
    Collection,
    CollectionInfo,
    collections_for,
    combined_bbox,
    composite_tile,
    parse_ids,
    tile_key,
)
from layers.tiles.cache import Tile

router = APIRouter(tags=["OGC API - Tiles"])

MVT = "application/vnd.mapbox-vector-tile"
TILEJSON = "application/json"
VARY = "Authorization, X-API-Key, Accept-Encoding"
LIVE_MAX_AGE_S = 5
STATIC_MAX_AGE_S = 3600
GZIP_MIN_BYTES = 512
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MVT: {"schema": {"type": "string", "format": "binary"}}}, "description": "Vector tile"},
    204: {"description": "Empty tile"},
    304: {"description": "Not modified (If-None-Match)"},
    **PROBLEMS,
}
BBox = tuple[float, float, float, float]
WORLD: BBox = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
_DIMENSION = {GeometryKind.POINT: 0, GeometryKind.LINE: 1, GeometryKind.POLYGON: 2}


def _bind_all(request: Request, session: SessionDep, collections: Sequence[Collection]) -> list[Bound]:
    """Bind each collection for its tiles: a query layer reads its parameters, a stored layer none."""
    now = datetime.now(UTC)
    return [
        c.bind(session, own_values(request, names_for(TILE, c.info.kind)), now, tiles=True)
        for c in collections
    ]


def _named(request: Request, session: SessionDep, principal: Principal, ids: str) -> list[Bound]:
    """Return the collections named in a composite tile path, bound for tiles (hidden ones: 404)."""
    collections = collections_for(principal, parse_ids(ids, "layers", MAX_TILE_LAYERS))
    return _bind_all(request, session, collections)


def _accepts_gzip(header: str) -> bool:
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            return not q or q.strip() not in ("0", "0.0", "0.00", "0.000")
    return False


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Return whether If-None-Match names this tile in any encoding (weak comparison, RFC 9110)."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/").strip('"').removesuffix("-gzip") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _public(infos: Sequence[CollectionInfo]) -> bool:
    return all(info.access is Access.PUBLIC for info in infos)


def _tile(request: Request, bounds: Sequence[Bound], key: TileKey) -> Response:
    tile = composite_tile(bounds, key)
    return tile_response(request, tile, _public([b.info for b in bounds]))


def tile_response(request: Request, tile: Tile, public: bool) -> Response:
    """Return a tile with caching headers: 204 when empty, 304 when the client holds it, gzip if asked."""
    scope = "public" if public else "private"
    max_age = LIVE_MAX_AGE_S if tile.live else STATIC_MAX_AGE_S
    headers = {"Cache-Control": f"{scope}, max-age={max_age}", "Vary": VARY}
    if not tile.data:
        return Response(status_code=204, headers=headers)
    gzipped = len(tile.data) >= GZIP_MIN_BYTES and _accepts_gzip(request.headers.get("accept-encoding", ""))
    headers["ETag"] = f'"{tile.etag}-gzip"' if gzipped else f'"{tile.etag}"'
    if _matches(request.headers.get("if-none-match"), tile.etag):
        return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return Response(tile.gzipped(), media_type=MVT, headers=headers)
    return Response(tile.data, media_type=MVT, headers=headers)


@router.get(
    "/tiles/{layer_ids}/{z}/{x}/{y}.mvt",
    summary="Vector tile (XYZ)",
    responses=TILE_RESPONSES,
    openapi_extra=openapi_parameters(TILE),
)
def xyz_tile(
    layer_ids: str, z: str, x: str, y: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Return a Mapbox Vector Tile of one collection or several (comma-separated ids), with live status.

    A query layer's parameters go in the query string.
    """
    bounds = _named(request, session, principal, layer_ids)
    return _tile(request, bounds, tile_key([b.info for b in bounds], z, x, y))


def _tilejson_doc(base: str, bounds: Sequence[Bound], box: BBox, lang: str) -> dict[str, Any]:
    infos = [b.info for b in bounds]
    minzoom, maxzoom = min(i.min_zoom for i in infos), max(i.max_zoom for i in infos)
    ids = ",".join(i.id for i in infos)
    carried = [pair for b in bounds for pair in b.carried]
    suffix = f"?{urlencode(carried)}" if carried else ""
    return {
        "tilejson": "3.0.0",
        "name": ", ".join(i.title.pick(lang) for i in infos),
        "description": " ".join(i.description.pick(lang) for i in infos),
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{ids}/{{z}}/{{x}}/{{y}}.mvt{suffix}"],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": list(box),
        "center": [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, max(minzoom, min(13, maxzoom))],
        "vector_layers": [
            {
                "id": b.info.id,
                "description": b.info.title.pick(lang),
                "minzoom": b.info.min_zoom,
                "maxzoom": b.info.max_zoom,
                "fields": b.tile_fields(),
            }
            for b in bounds
        ],
    }


@router.get(
    "/tiles/{layer_ids}.json",
    summary="TileJSON 3.0 of one or more collections",
    openapi_extra=openapi_parameters(TILE),
    responses=PROBLEMS,
)
def tilejson(
    layer_ids: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> JSONResponse:
    """Describe the vector tiles of the collections (comma-separated ids) as TileJSON 3.0.0."""
    bounds = _named(request, session, principal, layer_ids)
    doc = _tilejson_doc(base_url(request), bounds, combined_bbox(bounds) or WORLD, lang)
    live = any(b.info.live for b in bounds)
    cache = f"private, max-age={LIVE_MAX_AGE_S if live else 60}"
    return JSONResponse(doc, headers={"Vary": VARY, "Cache-Control": cache})


def check_tms(tms_id: str, lang: str) -> None:
    """Refuse a tile matrix set other than WebMercatorQuad (404)."""
    if tms_id != TMS_ID:
        detail = (
            f"tile matrix set {tms_id[:40]!r} is not offered; use {TMS_ID}"
            if lang == "en"
            else f"tile matrix set {tms_id[:40]!r} tidak tersedia; gunakan {TMS_ID}"
        )
        raise HTTPException(404, detail)


def _tileset_summary(base: str, info: CollectionInfo, lang: str) -> dict[str, Any]:
    tileset = f"{base}/collections/{info.id}/tiles/{TMS_ID}"
    template = f"{tileset}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    return {
        "title": info.title.pick(lang),
        "dataType": "vector",
        "crs": crs_uri(3857),
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(tileset, "self", JSON, f"{info.title.pick(lang)} ({TMS_ID})"),
            link(f"{base}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME, JSON),
            link(template, "item", MVT, "Mapbox Vector Tile", templated=True),
        ],
    }


@router.get(
    "/collections/{collection_id}/tiles",
    summary="Tilesets of a collection",
    openapi_extra=openapi_parameters(TILE),
    responses=PROBLEMS,
)
def tilesets(request: Request, collection: CollectionDep, lang: LangDep) -> JSONResponse:
    """List the vector tilesets of a collection (one: WebMercatorQuad)."""
    base = base_url(request)
    doc = {
        "links": [link(f"{base}/collections/{collection.info.id}/tiles", "self", JSON)],
        "tilesets": [_tileset_summary(base, collection.info, lang)],
    }
    return JSONResponse(doc, headers={"Vary": VARY})


def _limits(bbox: BBox | None, info: CollectionInfo) -> list[dict[str, Any]]:
    if bbox is None:
        return []
    out = []
    for z in range(info.min_zoom, info.max_zoom + 1):
        span = span_lonlat(bbox, z)
        out.append(
            {
                "tileMatrix": str(z),
                "minTileRow": span.min_y,
                "maxTileRow": span.max_y,
                "minTileCol": span.min_x,
                "maxTileCol": span.max_x,
            }
        )
    return out


def _properties_schema(fields: dict[str, str]) -> dict[str, Any]:
    types = {"String": "string", "Number": "number", "Boolean": "boolean"}
    return {"type": "object", "properties": {n: {"type": types[t]} for n, t in fields.items()}}


def _tileset_doc(base: str, bound: Bound, lang: str) -> dict[str, Any]:
    info, bbox = bound.info, bound.bbox()
    doc = _tileset_summary(base, info, lang) | {
        "tileMatrixSetLimits": _limits(bbox, info),
        "layers": [
            {
                "id": info.id,
                "title": info.title.pick(lang),
                "dataType": "vector",
                "geometryDimension": _DIMENSION[info.geometry],
                "minTileMatrix": str(info.min_zoom),
                "maxTileMatrix": str(info.max_zoom),
                "propertiesSchema": _properties_schema(bound.tile_fields()),
            }
        ],
    }
    if bbox is not None:
        doc["boundingBox"] = {"lowerLeft": list(bbox[:2]), "upperRight": list(bbox[2:]), "crs": CRS84_URI}
    return doc


@router.get(
    "/collections/{collection_id}/tiles/{tms_id}",
    summary="Tileset metadata",
    openapi_extra=openapi_parameters(TILE),
    responses=PROBLEMS,
)
def tileset(
    tms_id: str, request: Request, session: SessionDep, collection: CollectionDep, lang: LangDep
) -> JSONResponse:
    """Describe a collection's vector tileset: tile matrix set, limits, layers and the tile URL template."""
    check_tms(tms_id, lang)
    [bound] = _bind_all(request, session, [collection])
    return JSONResponse(_tileset_doc(base_url(request), bound, lang), headers={"Vary": VARY})


@router.get(
    "/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="Vector tile (OGC API – Tiles)",
    responses=TILE_RESPONSES,
    openapi_extra=openapi_parameters(TILE),
)
def ogc_tile(
    tms_id: str,
    tile_matrix: str,
    tile_row: str,
    tile_col: str,
    request: Request,
    session: SessionDep,
    collection: CollectionDep,
    lang: LangDep,
) -> Response:
    """Return a collection's tile; note the OGC order: zoom, row (y), column (x)."""
    check_tms(tms_id, lang)
    bounds = _bind_all(request, session, [collection])
    return _tile(request, bounds, tile_key([collection.info], tile_matrix, tile_col, tile_row))


@router.get("/tileMatrixSets", summary="Tile matrix sets")
def tile_matrix_sets(request: Request) -> JSONResponse:
    """List the tile matrix sets kendali tiles in (one: WebMercatorQuad)."""
    href = f"{base_url(request)}/tileMatrixSets/{TMS_ID}"
    entry = {"id": TMS_ID, "uri": TMS_URI, "links": [link(href, REL_TILING_SCHEME, JSON, TMS_ID)]}
    return JSONResponse({"tileMatrixSets": [entry]})


@router.get("/tileMatrixSets/{tms_id}", summary="A tile matrix set definition")
def tile_matrix_set(tms_id: str, lang: LangDep) -> JSONResponse:
    """Return the WebMercatorQuad definition (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    check_tms(tms_id, lang)
    return JSONResponse(tile_matrix_set_json(), headers={"Cache-Control": "public, max-age=86400"})
