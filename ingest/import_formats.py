"""Reading import files safely: an allow-list of formats, staged under generated names, read-only GDAL.

A client's file name only ever chooses a format from the allow-list; it is never a path. Files are copied
(bounded) into a private temporary folder as `upload.<ext>`, zipped shapefiles are unpacked there by us
(entry count, sizes and member names checked), and GDAL opens only what the content sniffing agreed on.
"""

from __future__ import annotations

import logging
import math
import stat
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from layers.errors import InvalidInput

log = logging.getLogger(__name__)

CHUNK: Final = 1024 * 1024
SHAPE_PARTS: Final = (".shp", ".shx", ".dbf", ".prj", ".cpg")
SHAPE_REQUIRED: Final = (".shp", ".shx", ".dbf")


@dataclass(frozen=True, slots=True)
class Format:
    """One importable format: its name, the extensions that select it and the one GDAL driver allowed."""

    name: str
    extensions: tuple[str, ...]
    driver: str
    staged_as: str


FORMATS: Final = {
    "geojson": Format("geojson", (".geojson", ".json"), "GeoJSON", "upload.geojson"),
    "gpkg": Format("gpkg", (".gpkg",), "GPKG", "upload.gpkg"),
    "shapefile": Format("shapefile", (".zip",), "ESRI Shapefile", "upload.zip"),
    "csv": Format("csv", (".csv",), "CSV", "upload.csv"),
}
ALLOWED_EXTENSIONS: Final = tuple(ext for f in FORMATS.values() for ext in f.extensions)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what an import may read."""

    max_file_bytes: int
    max_unzipped_bytes: int
    max_zip_entries: int


class ImportFileError(InvalidInput):
    """The file as a whole cannot be imported (format, size, archive or encoding)."""

    code = "invalid_import_file"


class FileTooLarge(ImportFileError):
    """The file (or an archive's content) is larger than allowed."""

    code = "import_too_large"


def _refused(message_en: str, message_id: str) -> ImportFileError:
    return ImportFileError(message_en, message_id)


def _sniff(head: bytes) -> str | None:
    """Return the format the first bytes show, or None for content that no allowed driver should see."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "shapefile"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return "geojson"
    # XML (VRT and friends), binary data and empty files are never handed to GDAL as CSV.
    if not text or text.startswith(b"<") or b"\x00" in head:
        return None
    return "csv"


def choose_format(filename: str | None, head: bytes) -> Format:
    """Return the format of a file from its extension (allow-list) checked against its first bytes."""
    sniffed = _sniff(head)
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    allowed = ", ".join(ALLOWED_EXTENSIONS)
    if suffix and suffix not in ALLOWED_EXTENSIONS:
        raise _refused(
            f"files of type {suffix[:16]!r} cannot be imported; use one of {allowed}",
            f"berkas berjenis {suffix[:16]!r} tidak dapat diimpor; gunakan salah satu dari {allowed}",
        )
    claimed = next((f for f in FORMATS.values() if suffix in f.extensions), None)
    if sniffed is None or (claimed is not None and claimed.name != sniffed):
        expected = claimed.name if claimed else allowed
        raise _refused(
            f"the file's content is not a valid {expected} file",
            f"isi berkas bukan berkas {expected} yang sah",
        )
    return FORMATS[sniffed]


def _too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(
        f"the file is larger than {limit} bytes", f"berkas lebih besar dari {limit} bita", limit=limit
    )


def copy_bounded(source: IO[bytes], target: Path, limit: int, head: bytes = b"") -> int:
    """Copy `head` and then a stream into `target` (created new), refusing it past `limit` bytes."""
    size = len(head)
    with target.open("xb") as out:
        out.write(head)
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            out.write(chunk)
    return size


def stage(source: BinaryIO, filename: str | None, workdir: Path, limits: Limits) -> tuple[Format, Path]:
    """Copy an upload into `workdir` under a generated name; return its format and the path to read."""
    head = source.read(64)
    fmt = choose_format(filename, head)
    staged = workdir / fmt.staged_as
    copy_bounded(source, staged, limits.max_file_bytes, head)
    if fmt.name == "shapefile":
        return fmt, unpack_shapefile(staged, workdir, limits)
    return fmt, staged


# --- zipped shapefiles -------------------------------------------------------------------------------


def _bad_zip() -> ImportFileError:
    return _refused("the file is not a readable zip archive", "berkas bukan arsip zip yang dapat dibaca")


def _check_member(info: zipfile.ZipInfo) -> None:
    """Refuse the whole archive for a member that climbs out of its folder, is absolute, a link or locked."""
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    mode = info.external_attr >> 16
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise _refused(
            f"the archive has an unsafe member path {info.filename[:80]!r}",
            f"arsip memuat jalur anggota yang tidak aman {info.filename[:80]!r}",
        )
    if stat.S_ISLNK(mode) or info.flag_bits & 0x1:
        raise _refused(
            f"the archive member {info.filename[:80]!r} is a link or encrypted",
            f"anggota arsip {info.filename[:80]!r} berupa tautan atau terenkripsi",
        )


def _shapefile_members(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """Return the parts (by extension) of the one shapefile in an archive."""
    files = [i for i in infos if not i.is_dir() and not PurePosixPath(i.filename).name.startswith(".")]
    shps = [i for i in files if i.filename.lower().endswith(".shp") and "__MACOSX" not in i.filename]
    if len(shps) != 1:
        raise _refused(
            f"the archive must hold exactly one shapefile (.shp), found {len(shps)}",
            f"arsip harus berisi tepat satu shapefile (.shp), ditemukan {len(shps)}",
        )
    stem = shps[0].filename[: -len(".shp")]
    parts = {i.filename[len(stem) :].lower(): i for i in files if i.filename[: len(stem)] == stem}
    parts = {ext: info for ext, info in parts.items() if ext in SHAPE_PARTS}
    missing = [ext for ext in SHAPE_REQUIRED if ext not in parts]
    if missing:
        raise _refused(
            f"the shapefile lacks its {', '.join(missing)} part",
            f"shapefile tidak memiliki {', '.join(missing)}",
        )
    return parts


def unpack_shapefile(archive: Path, workdir: Path, limits: Limits) -> Path:
    """Unpack the one shapefile of a zip into `workdir` as shape.*; return the .shp path."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_zip_entries:
                raise _refused(
                    f"the archive has more than {limits.max_zip_entries} entries",
                    f"arsip berisi lebih dari {limits.max_zip_entries} entri",
                )
            for info in infos:
                _check_member(info)
            budget = limits.max_unzipped_bytes
            for ext, info in _shapefile_members(infos).items():
                with zf.open(info) as member:
                    budget -= copy_bounded(member, workdir / f"shape{ext}", budget)
    except FileTooLarge:
        raise FileTooLarge(
            f"the archive unpacks to more than {limits.max_unzipped_bytes} bytes",
            f"isi arsip lebih besar dari {limits.max_unzipped_bytes} bita",
            limit=limits.max_unzipped_bytes,
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError):
        raise _bad_zip() from None
    return workdir / "shape.shp"


# --- GDAL ---------------------------------------------------------------------------------------------


def check_driver(path: Path, fmt: Format, source_layer: str | None) -> str | int:
    """Return the layer to read after checking GDAL sees the file with the expected driver only."""
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
        info = pyogrio.read_info(path, layer=source_layer if source_layer in names else 0)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError, ValueError) as exc:
        log.info("import: GDAL cannot open %s: %s", fmt.name, exc)
        raise unreadable(fmt) from None
    if info.get("driver") != fmt.driver:
        raise unreadable(fmt)
    if source_layer is not None and source_layer not in names:
        listed = ", ".join(names)
        raise _refused(
            f"the file has no layer {source_layer[:60]!r}; it has {listed}",
            f"berkas tidak memiliki lapisan {source_layer[:60]!r}; yang ada: {listed}",
        )
    return source_layer if source_layer is not None else 0


def unreadable(fmt: Format) -> ImportFileError:
    """Return the error for a file GDAL cannot read as its format."""
    return _refused(
        f"the file could not be read as {fmt.name}", f"berkas tidak dapat dibaca sebagai {fmt.name}"
    )


@dataclass(frozen=True, slots=True)
class RawTable:
    """What a file holds: its attribute columns, one record per row, geometries and declared CRS."""

    columns: list[str]
    records: list[dict[str, object]]
    geometries: list[BaseGeometry | None] | None  # None for CSV: built from its columns
    crs: CRS | None


def plain(value: object) -> object:
    """Return a cell as a plain Python value; empty text and missing values become None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def read_table(path: Path, fmt: Format, source_layer: str | None, max_rows: int) -> RawTable:
    """Read every row of a staged file (read-only) with the format's driver, up to `max_rows`."""
    layer = check_driver(path, fmt, source_layer)
    geometry = fmt.name != "csv"
    try:
        frame = pyogrio.read_dataframe(
            path,
            layer=layer,
            force_2d=True,
            max_features=max_rows + 1,
            read_geometry=geometry,
            on_invalid="ignore",
        )
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, RuntimeError, ValueError) as exc:
        log.info("import: GDAL cannot read %s: %s", fmt.name, exc)
        raise unreadable(fmt) from None
    if len(frame) > max_rows:
        raise _refused(
            f"the file has more than {max_rows} rows", f"berkas berisi lebih dari {max_rows} baris"
        )
    geoms: list[BaseGeometry | None] | None = None
    crs = getattr(frame, "crs", None)
    if geometry:
        geoms = [None] * len(frame)
        if isinstance(frame, gpd.GeoDataFrame):
            geoms = list(frame.geometry)
            frame = frame.drop(columns=[frame.geometry.name])
    columns = [str(c) for c in frame.columns]
    records = [
        {c: plain(v) for c, v in zip(columns, row, strict=True)} for row in frame.itertuples(index=False)
    ]
    return RawTable(columns, records, geoms, crs)
