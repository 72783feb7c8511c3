"""Test support for the raster, basemap and style routes: an app with their routers, PNG decoding, tiles."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import numpy.typing as npt
from fastapi.testclient import TestClient
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from sqlalchemy.orm import Session

from api.app import create_app
from api.deps import get_session
from api.settings import ApiSettings
from basemaps.settings import BasemapSettings
from layers.settings import DatabaseSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = PROJECT_ROOT / "web" / "node_modules" / ".bin" / "gl-style-validate"
MERCATOR = morecantile.tms.get("WebMercatorQuad")
# On the Leitimur hills, and in the middle of Ambon Bay (both inside the demo rasters' bounds).
LAND_POINT = (128.22, -3.73)
BAY_POINT = (128.15, -3.68)


@contextmanager
def map_client(
    database_url: str, session: Session, settings: BasemapSettings | None = None
) -> Iterator[TestClient]:
    """Yield a client of an app with the map routers, sharing the test's rolled-back session."""
    basemaps = settings or BasemapSettings()
    app = create_app(ApiSettings(db=DatabaseSettings(url=database_url), basemaps=basemaps))  # type: ignore[arg-type]
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as client:
        yield client


def decode_png(body: bytes) -> npt.NDArray[np.uint8]:
    """Return the bands of a PNG as a (bands, rows, cols) array; the last band is alpha."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG tile has no geotransform
        with MemoryFile(body) as memory, memory.open() as image:
            assert image.driver == "PNG"
            pixels: npt.NDArray[np.uint8] = image.read()
    return pixels


def tile_and_pixel(lon: float, lat: float, z: int) -> tuple[morecantile.Tile, int, int]:
    """Return the tile holding a lon/lat at zoom z, and the (row, col) of its pixel in a 256 px tile."""
    tile = MERCATOR.tile(lon, lat, z)
    left, bottom, right, top = MERCATOR.xy_bounds(tile)
    x, y = MERCATOR.xy(lon, lat)
    return tile, int((top - y) / (top - bottom) * 256), int((x - left) / (right - left) * 256)


def write_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], fmt: str = "png") -> Path:
    """Write a minimal MBTiles file; `tiles` is keyed by XYZ z/x/y and stored with TMS rows."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE metadata (name text, value text)")
        db.execute(
            "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)"
        )
        meta = {"name": "test", "format": fmt, "minzoom": "0", "maxzoom": "3", "attribution": "test tiles"}
        db.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
        rows = [(z, x, 2**z - 1 - y, data) for (z, x, y), data in tiles.items()]
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
        db.commit()
    return path


def validate(style: dict[str, Any], tmp_path: Path) -> str:
    """Run the MapLibre style-spec validator (from `npm ci` in web/); return its findings, empty if valid."""
    path = tmp_path / "style.json"
    path.write_text(json.dumps(style))
    result = subprocess.run(
        [str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    return (result.stdout + result.stderr).strip() if result.returncode else ""
