"""Vector tiles: XYZ with composite layers, TileJSON 3.0, and OGC API – Tiles paths over WebMercatorQuad."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.deps import LangDep, PrincipalDep, SessionDep
from api.links import JSON, base_url, link
from geo.crs import CRS84_URI, crs_uri
from geo.kinds import GeometryKind
from geo.tiles import TMS_ID, TMS_URI, span_lonlat, tile_matrix_set_json
from layers.access.policy import FieldView, Principal, field_view, layer_for
from layers.catalog.spec import Access, LayerSpec
from layers.features.extent import combined_bbox, layer_extent
from layers.tiles.cache import Tile
from layers.tiles.render import parse_layer_ids, render_tile, tile_fields, tile_key

router = APIRouter(tags=["OGC API - Tiles"])

MVT = "application/vnd.mapbox-vector-tile"
TILEJSON = "application/json"
VARY = "Authorization, X-API-Key, Accept-Encoding"
LIVE_MAX_AGE_S = 5
STATIC_MAX_AGE_S = 3600
GZIP_MIN_BYTES = 512
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MVT: {}}, "description": "Mapbox Vector Tile"},
    204: {"description": "Empty tile"},
    304: {"description": "Not modified (If-None-Match)"},
}
WORLD = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
_DIMENSION = {GeometryKind.POINT: 0, GeometryKind.LINE: 1, GeometryKind.POLYGON: 2}

Parts = list[tuple[LayerSpec, FieldView]]


def _parts(principal: Principal, layer_ids: str) -> Parts:
    """Return each requested layer with the caller's view of it; hidden layers are reported missing."""
    layers = [layer_for(principal, layer_id) for layer_id in parse_layer_ids(layer_ids)]
    return [(layer, field_view(principal, layer)) for layer in layers]


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


def _public(parts: Parts) -> bool:
    return all(layer.access is Access.PUBLIC for layer, _ in parts)


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


@router.get("/tiles/{layer_ids}/{z}/{x}/{y}.mvt", summary="Vector tile (XYZ)", responses=TILE_RESPONSES)
def xyz_tile(
    layer_ids: str, z: str, x: str, y: str, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Return a Mapbox Vector Tile of one layer or several (comma-separated ids), with live status."""
    parts = _parts(principal, layer_ids)
    key = tile_key([layer for layer, _ in parts], z, x, y)
    return tile_response(request, render_tile(session.connection(), parts, key), _public(parts))


def _tilejson_doc(
    base: str, parts: Parts, bounds: tuple[float, float, float, float], lang: str
) -> dict[str, Any]:
    layers = [layer for layer, _ in parts]
    minzoom, maxzoom = min(la.min_zoom for la in layers), max(la.max_zoom for la in layers)
    ids = ",".join(layer.id for layer in layers)
    return {
        "tilejson": "3.0.0",
        "name": ", ".join(layer.title.pick(lang) for layer in layers),
        "description": " ".join(layer.description.pick(lang) for layer in layers),
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{ids}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": list(bounds),
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, max(minzoom, min(13, maxzoom))],
        "vector_layers": [
            {
                "id": layer.id,
                "description": layer.title.pick(lang),
                "minzoom": layer.min_zoom,
                "maxzoom": layer.max_zoom,
                "fields": tile_fields(layer, view),
            }
            for layer, view in parts
        ],
    }


@router.get("/tiles/{layer_ids}.json", summary="TileJSON 3.0 of one or more layers")
def tilejson(
    layer_ids: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> JSONResponse:
    """Describe the vector tiles of the layers (comma-separated ids) as TileJSON 3.0.0."""
    parts = _parts(principal, layer_ids)
    bounds = combined_bbox(session.connection(), [layer for layer, _ in parts]) or WORLD
    doc = _tilejson_doc(base_url(request), parts, bounds, lang)
    return JSONResponse(doc, headers={"Vary": VARY, "Cache-Control": "private, max-age=60"})


def check_tms(tms_id: str, lang: str) -> None:
    """Refuse a tile matrix set other than WebMercatorQuad (404)."""
    if tms_id != TMS_ID:
        detail = (
            f"tile matrix set {tms_id[:40]!r} is not offered; use {TMS_ID}"
            if lang == "en"
            else f"tile matrix set {tms_id[:40]!r} tidak tersedia; gunakan {TMS_ID}"
        )
        raise HTTPException(404, detail)


def _tileset_summary(base: str, layer: LayerSpec, lang: str) -> dict[str, Any]:
    tileset = f"{base}/collections/{layer.id}/tiles/{TMS_ID}"
    return {
        "title": layer.title.pick(lang),
        "dataType": "vector",
        "crs": crs_uri(3857),
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(tileset, "self", JSON, f"{layer.title.pick(lang)} ({TMS_ID})"),
            link(f"{base}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME, JSON),
        ],
    }


@router.get("/collections/{collection_id}/tiles", summary="Tilesets of a collection")
def tilesets(collection_id: str, request: Request, principal: PrincipalDep, lang: LangDep) -> JSONResponse:
    """List the vector tilesets of a collection (one: WebMercatorQuad)."""
    layer = layer_for(principal, collection_id)
    base = base_url(request)
    doc = {
        "links": [link(f"{base}/collections/{layer.id}/tiles", "self", JSON)],
        "tilesets": [_tileset_summary(base, layer, lang)],
    }
    return JSONResponse(doc, headers={"Vary": VARY})


def _limits(bbox: tuple[float, float, float, float] | None, layer: LayerSpec) -> list[dict[str, Any]]:
    if bbox is None:
        return []
    out = []
    for z in range(layer.min_zoom, layer.max_zoom + 1):
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


def _tileset_doc(
    base: str, layer: LayerSpec, view: FieldView, bbox: tuple[float, float, float, float] | None, lang: str
) -> dict[str, Any]:
    doc = _tileset_summary(base, layer, lang) | {
        "tileMatrixSetLimits": _limits(bbox, layer),
        "layers": [
            {
                "id": layer.id,
                "title": layer.title.pick(lang),
                "dataType": "vector",
                "geometryDimension": _DIMENSION[layer.geometry],
                "minTileMatrix": str(layer.min_zoom),
                "maxTileMatrix": str(layer.max_zoom),
                "propertiesSchema": _properties_schema(tile_fields(layer, view)),
            }
        ],
    }
    if bbox is not None:
        doc["boundingBox"] = {"lowerLeft": list(bbox[:2]), "upperRight": list(bbox[2:]), "crs": CRS84_URI}
    template = f"{base}/collections/{layer.id}/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    doc["links"].append(link(template, "item", MVT, "Mapbox Vector Tile", templated=True))
    return doc


@router.get("/collections/{collection_id}/tiles/{tms_id}", summary="Tileset metadata")
def tileset(
    collection_id: str,
    tms_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> JSONResponse:
    """Describe a collection's vector tileset: tile matrix set, limits, layers and the tile URL template."""
    layer = layer_for(principal, collection_id)
    check_tms(tms_id, lang)
    bbox = layer_extent(session.connection(), layer).bbox
    doc = _tileset_doc(base_url(request), layer, field_view(principal, layer), bbox, lang)
    return JSONResponse(doc, headers={"Vary": VARY})


@router.get(
    "/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="Vector tile (OGC API – Tiles)",
    responses=TILE_RESPONSES,
)
def ogc_tile(
    collection_id: str,
    tms_id: str,
    tile_matrix: str,
    tile_row: str,
    tile_col: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> Response:
    """Return a collection's tile; note the OGC order: zoom, row (y), column (x)."""
    layer = layer_for(principal, collection_id)
    parts = [(layer, field_view(principal, layer))]
    check_tms(tms_id, lang)
    key = tile_key([layer for layer, _ in parts], tile_matrix, tile_col, tile_row)
    return tile_response(request, render_tile(session.connection(), parts, key), _public(parts))


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
