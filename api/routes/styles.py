"""MapLibre style documents: a basemap with the caller's layers drawn in their declared styles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.deps import LangDep, PrincipalDep, SessionDep
from api.links import base_url
from api.raster_http import BasemapSettingsDep, basemap_errors, raster_file
from basemaps.catalog import get_basemap
from basemaps.errors import SourceNotFound, SourceUnreadable
from basemaps.raster_tiles import zoom_range
from basemaps.settings import OFFLINE_ID, BasemapSettings
from basemaps.style import HillshadeRaster, StyleUrls, basemap_style
from layers.access.policy import readable_layers
from layers.rasters import SourceNotFound as RasterNotFound
from layers.rasters import get_raster
from layers.tiles.style import overlay

router = APIRouter(tags=["Styles"])

StyleName = Annotated[str, Path(max_length=32, description="A basemap id: offline, osm, ...")]


@router.get("/styles/{name}.json", summary="A MapLibre style: a basemap and the caller's layers")
def style(
    name: StyleName,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: BasemapSettingsDep,
    lang: LangDep,
) -> JSONResponse:
    """Compose the named basemap with every layer the caller may read, coloured by live status."""
    base = base_url(request)
    with basemap_errors(name):
        basemap = get_basemap(settings, name)
        hillshade = _hillshade(session.connection(), settings) if basemap.id == OFFLINE_ID else None
        doc = basemap_style(basemap, settings, StyleUrls(base), lang, hillshade)
    layers = overlay(readable_layers(principal), base, lang)
    doc["sources"] |= layers.sources
    doc["layers"] += layers.layers
    doc["metadata"]["kendali:layers"] = layers.legend
    headers = {
        "Cache-Control": "private, max-age=60",
        "Vary": "Authorization, X-API-Key, Cookie, Accept-Language",
    }
    return JSONResponse(doc, headers=headers)


def _hillshade(conn: Connection, settings: BasemapSettings) -> HillshadeRaster | None:
    """Return the DEM the offline basemap shades, or None when it is not configured or not readable."""
    raster_id = settings.offline.hillshade_raster
    if raster_id is None:
        return None
    try:
        dem = get_raster(conn, raster_id)
        min_zoom, max_zoom = zoom_range(raster_file(dem))
    except (RasterNotFound, SourceNotFound, SourceUnreadable):
        return None
    return HillshadeRaster(dem.id, dem.bounds, min_zoom, max_zoom)
