"""The basemap part of a MapLibre style: the built-in offline map, or an XYZ/MBTiles/PMTiles raster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from basemaps.catalog import Basemap
from basemaps.errors import InvalidTile
from basemaps.settings import BasemapSettings, OfflineLook, SourceKind

Json = dict[str, Any]
LAND_SOURCE = "kendali-land"
HILLSHADE_SOURCE = "kendali-hillshade"
RASTER_SOURCE = "kendali-basemap"


@dataclass(frozen=True, slots=True)
class HillshadeRaster:
    """The DEM the offline basemap shades: its id, bounds (EPSG:4326) and the zooms it is served at."""

    id: str
    bounds: tuple[float, float, float, float]
    min_zoom: int
    max_zoom: int


@dataclass(frozen=True, slots=True)
class StyleUrls:
    """The absolute URLs a style points at, from the server's base URL."""

    base: str

    def vector_tiles(self, layer_id: str) -> str:
        """Return the XYZ template of a layer's vector tiles."""
        return f"{self.base}/tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt"

    def raster_tiles(self, raster_id: str, style: str) -> str:
        """Return the XYZ template of a raster's PNG tiles in a style."""
        return f"{self.base}/rasters/{raster_id}/tiles/{{z}}/{{x}}/{{y}}.png?style={style}"

    def basemap_tiles(self, basemap_id: str, fmt: str) -> str:
        """Return the XYZ template of an archive basemap's tiles served by kendali."""
        return f"{self.base}/basemaps/{basemap_id}/{{z}}/{{x}}/{{y}}.{fmt}"

    def land(self) -> str:
        """Return the URL of the offline basemap's land polygon."""
        return f"{self.base}/basemaps/offline/land.geojson"


def basemap_style(
    basemap: Basemap, settings: BasemapSettings, urls: StyleUrls, lang: str, hillshade: HillshadeRaster | None
) -> Json:
    """Return a complete MapLibre style (version 8) that draws only the basemap."""
    look = settings.offline
    if not basemap.styleable:
        raise InvalidTile(
            "this basemap holds vector tiles without a style; use it as a source",
            "peta dasar ini berisi ubin vektor tanpa gaya; gunakan sebagai sumber",
        )
    if basemap.source.kind is SourceKind.OFFLINE:
        sources, layers = _offline(basemap, look, urls, hillshade)
    else:
        sources, layers = _raster(basemap, look, urls)
    return {
        "version": 8,
        "name": basemap.source.title(lang),
        "metadata": {
            "kendali:basemap": basemap.id,
            "kendali:online": basemap.source.online,
            "kendali:lang": lang,
        },
        "center": [settings.center_lon, settings.center_lat],
        "zoom": settings.zoom,
        "sources": sources,
        "layers": layers,
    }


def _background(look: OfflineLook) -> Json:
    return {"id": "background", "type": "background", "paint": {"background-color": look.water_color}}


def _raster(basemap: Basemap, look: OfflineLook, urls: StyleUrls) -> tuple[Json, list[Json]]:
    source = basemap.source
    tiles = (
        source.url
        if source.kind is SourceKind.XYZ
        else urls.basemap_tiles(basemap.id, basemap.tile_format or "png")
    )
    min_zoom, max_zoom = basemap.zoom_range
    raster: Json = {
        "type": "raster",
        "tiles": [tiles],
        "tileSize": source.tile_size,
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "attribution": basemap.attribution(),
    }
    if basemap.archive is not None and basemap.archive.bounds is not None:
        raster["bounds"] = list(basemap.archive.bounds)
    layer = {"id": "basemap", "type": "raster", "source": RASTER_SOURCE}
    return {RASTER_SOURCE: raster}, [_background(look), layer]


def _offline(
    basemap: Basemap, look: OfflineLook, urls: StyleUrls, hillshade: HillshadeRaster | None
) -> tuple[Json, list[Json]]:
    """Water, land, the DEM's hillshade, then district boundaries and rivers from kendali's own tiles."""
    sources: Json = {
        LAND_SOURCE: {"type": "geojson", "data": urls.land(), "attribution": basemap.attribution()}
    }
    layers = [
        _background(look),
        {"id": "land", "type": "fill", "source": LAND_SOURCE, "paint": {"fill-color": look.land_color}},
    ]
    if hillshade is not None:
        sources[HILLSHADE_SOURCE] = {
            "type": "raster",
            "tiles": [urls.raster_tiles(hillshade.id, "hillshade")],
            "tileSize": 256,
            "bounds": list(hillshade.bounds),
            "minzoom": hillshade.min_zoom,
            "maxzoom": hillshade.max_zoom,
        }
        paint = {"raster-opacity": look.hillshade_opacity}
        layers.append({"id": "hillshade", "type": "raster", "source": HILLSHADE_SOURCE, "paint": paint})
    layers.append(_line("coast", LAND_SOURCE, None, look.coast_color, 1.0))
    for layer_id, color, width in (
        (look.district_layer, look.district_color, 1.2),
        (look.river_layer, look.river_color, 1.5),
    ):
        if layer_id is not None:
            sources[f"kendali-{layer_id}"] = {"type": "vector", "tiles": [urls.vector_tiles(layer_id)]}
            layers.append(_line(f"basemap-{layer_id}", f"kendali-{layer_id}", layer_id, color, width))
    return sources, layers


def _line(layer_id: str, source: str, source_layer: str | None, color: str, width: float) -> Json:
    layer: Json = {
        "id": layer_id,
        "type": "line",
        "source": source,
        "layout": {"line-join": "round"},
        "paint": {"line-color": color, "line-width": width},
    }
    if source_layer is not None:
        layer["source-layer"] = source_layer
    return layer
