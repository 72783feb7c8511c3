"""Raster sources (DEM, flood hazard): metadata with legends, PNG tiles, and the value at a point."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import LangDep, SessionDep
from api.links import JSON, base_url, link
from api.raster_http import basemap_errors, cached_response, raster_file
from basemaps.raster_tiles import (
    MAX_ZOOM,
    legend,
    point_value,
    render_tile,
    styles_for,
    zoom_range,
)
from basemaps.style import StyleUrls
from layers.rasters import RasterSource, get_raster, list_rasters

router = APIRouter(tags=["Rasters"])

PNG = "image/png"
RasterId = Annotated[str, Path(max_length=64, description="Raster id, e.g. dem or flood_hazard.")]
Zoom = Annotated[int, Path(ge=0, le=MAX_ZOOM)]
TileIndex = Annotated[int, Path(ge=0, lt=2**MAX_ZOOM)]
Style = Annotated[
    str | None, Query(max_length=32, pattern=r"^[a-z]+$", description="Rendering, e.g. color or hillshade.")
]
Lon = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="Longitude (EPSG:4326).")]
Lat = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="Latitude (EPSG:4326).")]


def _summary(request: Request, raster: RasterSource, lang: str) -> dict[str, Any]:
    href = f"{base_url(request)}/rasters/{raster.id}"
    return {
        "id": raster.id,
        "title": raster.title.pick(lang),
        "kind": raster.kind,
        "unit": raster.unit,
        "bounds": list(raster.bounds),
        "demo": raster.demo,
        "links": [link(href, "describedby", JSON, raster.title.pick(lang))],
    }


def _details(request: Request, raster: RasterSource, lang: str) -> dict[str, Any]:
    file = raster_file(raster)
    base = base_url(request)
    with basemap_errors(raster.id):
        min_zoom, max_zoom = zoom_range(file)
        doc = _summary(request, raster, lang) | {"legend": legend(file).as_json(lang)}
    styles = styles_for(raster.kind)
    return doc | {
        "nodata": raster.nodata,
        "width": raster.width,
        "height": raster.height,
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "styles": list(styles),
        "tiles": {style: StyleUrls(base).raster_tiles(raster.id, style) for style in styles},
        "value": f"{base}/rasters/{raster.id}/value?lon={{lon}}&lat={{lat}}",
    }


@router.get("/rasters", summary="The raster sources")
def rasters(request: Request, session: SessionDep, lang: LangDep) -> JSONResponse:
    """List the registered rasters (DEM, flood hazard, ...)."""
    found = list_rasters(session.connection())
    return JSONResponse({"rasters": [_summary(request, r, lang) for r in found]})


@router.get("/rasters/{raster_id}", summary="One raster: extent, zooms, styles and legend")
def raster(raster_id: RasterId, request: Request, session: SessionDep, lang: LangDep) -> JSONResponse:
    """Describe one raster, with the legend of its colour map and its tile URL templates."""
    found = get_raster(session.connection(), raster_id)
    return JSONResponse(_details(request, found, lang))


@router.get(
    "/rasters/{raster_id}/tiles/{z}/{x}/{y}.png",
    summary="A PNG tile of a raster (WebMercatorQuad)",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}, 304: {"description": "Not modified"}},
)
def raster_tile(
    raster_id: RasterId,
    z: Zoom,
    x: TileIndex,
    y: TileIndex,
    request: Request,
    session: SessionDep,
    style: Style = None,
) -> Response:
    """Render a 256 x 256 tile; transparent where the raster has no data or the tile lies outside it."""
    found = get_raster(session.connection(), raster_id)
    with basemap_errors(raster_id):
        body = render_tile(raster_file(found), z, x, y, style)
    return cached_response(request, body, PNG)


@router.get("/rasters/{raster_id}/value", summary="The value of a raster at a point")
def raster_value(raster_id: RasterId, lon: Lon, lat: Lat, session: SessionDep, lang: LangDep) -> JSONResponse:
    """Return the raster's value at lon/lat (null outside it or at nodata), with its class label if any."""
    found = get_raster(session.connection(), raster_id)
    with basemap_errors(raster_id):
        value = point_value(raster_file(found), lon, lat)
        label = legend(raster_file(found)).label_of(value, lang)
    body = {"raster": found.id, "lon": lon, "lat": lat, "value": value, "unit": found.unit, "label": label}
    return JSONResponse(body)
