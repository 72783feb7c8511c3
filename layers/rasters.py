"""The raster catalog (`raster_sources`): list and look up the registered raster files; read only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Row, Select, func, select

from layers.catalog.spec import Titles
from layers.errors import KendaliError, LayerNotFound
from layers.tables import raster_sources

RASTER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class SourceNotFound(LayerNotFound):
    """No raster or basemap source with this id (a 404, like a missing layer)."""

    code = "source_not_found"

    def __init__(self, source_id: str) -> None:
        shown = source_id[:64]
        KendaliError.__init__(
            self, f"source {shown!r} does not exist", f"sumber {shown!r} tidak ada", source=shown
        )


@dataclass(frozen=True, slots=True)
class RasterSource:
    """One registered raster: its file, what it holds, and where it lies (EPSG:4326)."""

    id: str
    title: Titles
    kind: str
    path: Path
    unit: str
    nodata: float | None
    bounds: tuple[float, float, float, float]
    width: int
    height: int
    demo: bool


def _select() -> Select[tuple[object, ...]]:
    r = raster_sources.c
    return select(
        r.id,
        r.title_id,
        r.title_en,
        r.kind,
        r.path,
        r.unit,
        r.nodata,
        func.ST_XMin(r.bounds).label("west"),
        func.ST_YMin(r.bounds).label("south"),
        func.ST_XMax(r.bounds).label("east"),
        func.ST_YMax(r.bounds).label("north"),
        r.width,
        r.height,
        r.demo,
    )


def _source(row: Row[tuple[object, ...]]) -> RasterSource:
    m = row._mapping
    return RasterSource(
        id=str(m["id"]),
        title=Titles(str(m["title_id"]), str(m["title_en"])),
        kind=str(m["kind"]),
        path=Path(str(m["path"])),
        unit=str(m["unit"]),
        nodata=None if m["nodata"] is None else float(m["nodata"]),
        bounds=(float(m["west"]), float(m["south"]), float(m["east"]), float(m["north"])),
        width=int(m["width"]),
        height=int(m["height"]),
        demo=bool(m["demo"]),
    )


def list_rasters(conn: Connection) -> list[RasterSource]:
    """Return every registered raster, by id."""
    return [_source(row) for row in conn.execute(_select().order_by(raster_sources.c.id))]


def get_raster(conn: Connection, raster_id: str) -> RasterSource:
    """Return one raster, or raise SourceNotFound (also for ids that cannot exist)."""
    if not RASTER_ID.match(raster_id):
        raise SourceNotFound(raster_id)
    row = conn.execute(_select().where(raster_sources.c.id == raster_id)).one_or_none()
    if row is None:
        raise SourceNotFound(raster_id)
    return _source(row)
