"""Raster tile rendering limits: bounded reads, local GeoTIFFs only, legends of the colour maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from basemaps.colormaps import DEM_LEGEND, FLOOD_HAZARD_LEGEND
from basemaps.errors import InvalidTile, SourceUnreadable
from basemaps.raster_tiles import MAX_READ_PIXELS, RasterFile, legend, render_tile, zoom_range


def write_tif(path: Path, size: int, *, overviews: bool) -> Path:
    """Write a tiled uint8 GeoTIFF of size x size pixels of 0.0001° at Ambon."""
    profile = {
        "driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "uint8", "crs": "EPSG:4326",
        "transform": Affine(0.0001, 0, 128.1, 0, -0.0001, -3.6), "tiled": True, "compress": "deflate",
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((size, size), 7, np.uint8), 1)
        if overviews:
            dst.build_overviews([2, 4, 8, 16])
    return path


@pytest.mark.filterwarnings("ignore::rio_tiler.errors.NoOverviewWarning")
def test_a_zoom_too_low_for_a_raster_without_overviews_is_refused(tmp_path: Path) -> None:
    size = int(MAX_READ_PIXELS**0.5) + 200
    raster = RasterFile(write_tif(tmp_path / "big.tif", size, overviews=False), "landcover", "class")
    with pytest.raises(InvalidTile):
        render_tile(raster, 6, 54, 32)
    assert zoom_range(raster)[0] > 6


def test_overviews_make_low_zooms_a_bounded_read(tmp_path: Path) -> None:
    size = int(MAX_READ_PIXELS**0.5) + 200
    raster = RasterFile(write_tif(tmp_path / "big.tif", size, overviews=True), "landcover", "class")
    assert render_tile(raster, 6, 54, 32)[:4] == b"\x89PNG"
    assert zoom_range(raster)[0] == 0


def test_unknown_kinds_get_a_grey_legend_over_their_values(tmp_path: Path) -> None:
    raster = RasterFile(write_tif(tmp_path / "small.tif", 64, overviews=False), "landcover", "class")
    found = legend(raster)
    assert (found.type, found.value_range, found.entries[0].color) == ("ramp", (7.0, 8.0), "#000000")


@pytest.mark.parametrize("path", ["/vsicurl/http://example.org/dem.tif", "data/dem.vrt", "http://x/dem.tif"])
def test_only_local_geotiffs_are_read(path: str) -> None:
    with pytest.raises(SourceUnreadable):
        render_tile(RasterFile(Path(path), "dem", "m"), 0, 0, 0)


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable):
        render_tile(RasterFile(tmp_path / "gone.tif", "dem", "m"), 0, 0, 0)


def test_dem_ramp_runs_from_its_first_to_its_last_stop() -> None:
    lut = DEM_LEGEND.ramp_lut()
    assert len(lut) == 256
    assert lut[0] == DEM_LEGEND.entries[0].rgba() and lut[255] == DEM_LEGEND.entries[-1].rgba()


def test_flood_classes_have_colours_and_labels() -> None:
    colors = FLOOD_HAZARD_LEGEND.class_colors()
    assert colors[0][3] == 0 and colors[3] == (0xD7, 0x30, 0x1F, round(0.85 * 255))
    assert (
        FLOOD_HAZARD_LEGEND.label_of(2, "en") == "Medium"
        and FLOOD_HAZARD_LEGEND.label_of(2, "id") == "Sedang"
    )
    assert FLOOD_HAZARD_LEGEND.label_of(9, "en") is None and DEM_LEGEND.label_of(2, "en") is None
