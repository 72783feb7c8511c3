"""The basemap catalog: the built-in offline basemap and the configured XYZ, MBTiles and PMTiles sources."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from basemaps.errors import InvalidTile, SourceNotFound, SourceUnreadable
from basemaps.mbtiles import ArchiveInfo, TileData, mbtiles_info, mbtiles_tile, pmtiles_info, pmtiles_tile
from basemaps.raster_tiles import check_tile
from basemaps.settings import BasemapSettings, BasemapSource, SourceKind

ARCHIVE_KINDS = (SourceKind.MBTILES, SourceKind.PMTILES)
RASTER_FORMATS = ("png", "jpg", "webp")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Basemap:
    """A basemap with what its archive says about itself (None for offline and XYZ basemaps)."""

    source: BasemapSource
    archive: ArchiveInfo | None = None

    @property
    def id(self) -> str:
        """Return the basemap id."""
        return self.source.id

    @property
    def tile_format(self) -> str | None:
        """Return the format of the tiles kendali serves for it, or None when it serves none."""
        return self.archive.format if self.archive else None

    @property
    def zoom_range(self) -> tuple[int, int]:
        """Return the zooms it has tiles for."""
        if self.archive is not None:
            return self.archive.min_zoom, self.archive.max_zoom
        return self.source.min_zoom, self.source.max_zoom

    @property
    def raster(self) -> bool:
        """Return whether a style can draw it as a raster layer (offline basemaps compose their own)."""
        return self.source.kind is SourceKind.XYZ or self.tile_format in RASTER_FORMATS

    @property
    def styleable(self) -> bool:
        """Return whether kendali can write a MapLibre style for it."""
        return self.raster or self.source.kind is SourceKind.OFFLINE

    def attribution(self) -> str:
        """Return the attribution, the archive's own when the settings give none."""
        return self.source.attribution or (self.archive.attribution if self.archive else None) or ""


def list_basemaps(settings: BasemapSettings) -> list[Basemap]:
    """Return every basemap, the offline one first; an archive that cannot be read is left out."""
    out = []
    for source in settings.all_sources():
        try:
            out.append(_basemap(source))
        except SourceNotFound:
            continue
    return out


def get_basemap(settings: BasemapSettings, basemap_id: str) -> Basemap:
    """Return one basemap, or raise SourceNotFound."""
    source = next((s for s in settings.all_sources() if s.id == basemap_id), None)
    if source is None:
        raise SourceNotFound(basemap_id)
    return _basemap(source)


def basemap_tile(basemap: Basemap, z: int, x: int, y: int, ext: str) -> TileData | None:
    """Return a stored tile of an MBTiles or PMTiles basemap, or None where the archive has none."""
    check_tile(z, x, y)
    if basemap.archive is None:
        raise SourceNotFound(basemap.id)
    wanted = {"jpeg": "jpg", "mvt": "pbf"}.get(ext, ext)
    if wanted != basemap.archive.format:
        raise InvalidTile(
            f"this basemap has .{basemap.archive.format} tiles",
            f"peta dasar ini berisi ubin .{basemap.archive.format}",
        )
    path = basemap.source.path
    assert path is not None  # noqa: S101 - the settings validator requires a path for archives
    reader = mbtiles_tile if basemap.source.kind is SourceKind.MBTILES else pmtiles_tile
    return reader(path, z, x, y)


def _basemap(source: BasemapSource) -> Basemap:
    """Return the basemap with its archive facts; an unreadable archive counts as not there."""
    if source.kind not in ARCHIVE_KINDS or source.path is None:
        return Basemap(source)
    try:
        info = mbtiles_info(source.path) if source.kind is SourceKind.MBTILES else pmtiles_info(source.path)
    except SourceUnreadable as exc:
        log.warning("basemap %s is configured but unreadable: %s", source.id, exc)
        raise SourceNotFound(source.id) from None
    return Basemap(source, info)
