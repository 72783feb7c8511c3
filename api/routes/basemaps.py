"""Basemaps: the list, the offline basemap's land polygon, and tiles of MBTiles/PMTiles archives."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from api.deps import LangDep
from api.links import JSON, answers, base_url, link
from api.raster_http import BasemapSettingsDep, basemap_errors, cached_response
from basemaps.catalog import Basemap, basemap_tile, get_basemap, list_basemaps
from basemaps.offline import land_from_file, land_geojson
from basemaps.raster_tiles import MAX_ZOOM
from basemaps.settings import OFFLINE_ID, BasemapSettings
from basemaps.style import StyleUrls
from layers.demo.geography import load_island

router = APIRouter(tags=["Basemaps"])

BasemapId = Annotated[str, Path(max_length=32, description="Basemap id, e.g. offline or osm.")]
Zoom = Annotated[int, Path(ge=0, le=MAX_ZOOM)]
TileIndex = Annotated[int, Path(ge=0, lt=2**MAX_ZOOM)]
Extension = Literal["png", "jpg", "jpeg", "webp", "pbf", "mvt"]


def _tiles(base: str, basemap: Basemap) -> str | None:
    """Return the XYZ template a client fetches the basemap's tiles from (None for the offline one)."""
    if basemap.source.url is not None:
        return basemap.source.url
    if basemap.tile_format is not None:
        return StyleUrls(base).basemap_tiles(basemap.id, basemap.tile_format)
    return None


def _describe(request: Request, basemap: Basemap, lang: str) -> dict[str, Any]:
    base = base_url(request)
    source = basemap.source
    min_zoom, max_zoom = basemap.zoom_range
    style = f"{base}/styles/{basemap.id}.json"
    return {
        "id": basemap.id,
        "title": source.title(lang),
        "kind": source.kind.value,
        "online": source.online,
        "format": basemap.tile_format or ("png" if source.url else None),
        "tiles": _tiles(base, basemap),
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "attribution": basemap.attribution(),
        "links": [link(style, "stylesheet", JSON, source.title(lang))] if basemap.styleable else [],
    }


@router.get("/basemaps", summary="The basemaps, the offline one first")
def basemaps(request: Request, settings: BasemapSettingsDep, lang: LangDep) -> JSONResponse:
    """List the basemaps; `online` ones need the internet in the browser, the others work without."""
    found = list_basemaps(settings)
    doc = {"default": settings.default, "basemaps": [_describe(request, b, lang) for b in found]}
    return JSONResponse(doc)


@router.get(
    "/basemaps/offline/land.geojson",
    summary="The land polygon of the offline basemap",
    responses=answers("application/geo+json"),
)
def offline_land(request: Request, settings: BasemapSettingsDep) -> Response:
    """Return the city's land as GeoJSON (the configured file, else the packaged Ambon Island coast)."""
    with basemap_errors(OFFLINE_ID):
        body = _land_body(settings)
    return cached_response(request, body, "application/geo+json")


def _land_body(settings: BasemapSettings) -> bytes:
    if settings.land_geojson is not None:
        return json.dumps(land_geojson(land_from_file(settings.land_geojson))).encode()
    return _packaged_land()


@lru_cache(maxsize=1)
def _packaged_land() -> bytes:
    # The coastline shipped with the demo city is the real OpenStreetMap coast of Ambon Island.
    return json.dumps(land_geojson(load_island())).encode()


@router.get(
    "/basemaps/{basemap_id}/{z}/{x}/{y}.{ext}",
    summary="A tile of an MBTiles or PMTiles basemap",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 204: {"description": "No tile there"}},
)
def basemap_tile_route(
    basemap_id: BasemapId,
    z: Zoom,
    x: TileIndex,
    y: TileIndex,
    ext: Extension,
    request: Request,
    settings: BasemapSettingsDep,
) -> Response:
    """Serve a stored tile; 204 where the archive has none."""
    with basemap_errors(basemap_id):
        tile = basemap_tile(get_basemap(settings, basemap_id), z, x, y, ext)
    if tile is None:
        return Response(status_code=204)
    return cached_response(request, tile.data, tile.media_type, encoding=tile.encoding)
