"""Export formats: which are streamed and which are written to a file first, their media types and names."""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Connection, Engine

from layers.db import limit_statement_time, translated_errors
from layers.errors import InvalidInput
from layers.export.csv_xlsx import csv_chunks, write_xlsx
from layers.export.geojson import geojson_chunks
from layers.export.gpkg import write_gpkg
from layers.export.kml import kml_chunks
from layers.export.rows import ExportSource
from layers.export.shapefile import write_shapefile_zip

MAX_FILENAME = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# The last bytes of a CSV cut short: an unclosed quoted field (a complete file always ends on a line
# break), so a reader fails or shows the note rather than take the rows so far for the whole file.
BROKEN_CSV_TAIL = (
    b'"kendali: export interrupted, this file is incomplete / ekspor terputus, berkas tidak lengkap'
)

log = logging.getLogger(__name__)


class ExportInterrupted(Exception):
    """A streamed export failed after its first bytes were sent; raised to abort the HTTP response."""


class Format(StrEnum):
    """A file format a layer can be exported to."""

    GPKG = "gpkg"
    SHP = "shp"
    GEOJSON = "geojson"
    CSV = "csv"
    KML = "kml"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """How a format travels: media type, file extension, streamed or written to disk first."""

    media_type: str
    extension: str
    streamed: bool
    multi_layer: bool = False


FORMATS: dict[Format, FormatInfo] = {
    Format.GPKG: FormatInfo("application/geopackage+sqlite3", "gpkg", streamed=False, multi_layer=True),
    Format.SHP: FormatInfo("application/zip", "shp.zip", streamed=False),
    Format.GEOJSON: FormatInfo("application/geo+json", "geojson", streamed=True),
    Format.CSV: FormatInfo("text/csv; charset=utf-8", "csv", streamed=True),
    Format.KML: FormatInfo("application/vnd.google-earth.kml+xml", "kml", streamed=True),
    Format.XLSX: FormatInfo(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", streamed=False
    ),
}


def parse_format(value: str | None, *, multi_layer: bool = False) -> Format:
    """Return the format named by `f`; refuse unknown ones (and single-layer ones for several layers)."""
    allowed = [f.value for f, info in FORMATS.items() if info.multi_layer or not multi_layer]
    if value is None or value.lower() not in allowed:
        listed = ", ".join(allowed)
        raise InvalidInput(f"f: use one of {listed}", f"f: gunakan salah satu dari {listed}", parameter="f")
    return Format(value.lower())


def safe_filename(stem: str, fmt: Format) -> str:
    """Return a download name made only of [A-Za-z0-9._-], never a path, with the format's extension."""
    cleaned = _UNSAFE.sub("_", stem).strip("._-")[:MAX_FILENAME] or "kendali"
    return f"{cleaned}.{FORMATS[fmt].extension}"


def chunks(conn: Connection, source: ExportSource, fmt: Format, lang: str = "id") -> Iterator[bytes]:
    """Yield a streamed format's bytes."""
    if fmt is Format.CSV:
        return csv_chunks(conn, source)
    if fmt is Format.KML:
        return kml_chunks(conn, source, lang)
    if fmt is Format.GEOJSON:
        return geojson_chunks(conn, source)
    raise ValueError(f"{fmt} is not a streamed format")


def streamed(engine: Engine, source: ExportSource, fmt: Format, lang: str = "id") -> Iterator[bytes]:
    """Start a streamed export on a connection of its own (it outlives the request's session).

    The statement's first rows are read before this returns, so what fails early (a bad filter, the
    time limit, a CRS) raises a domain error while a problem body can still be sent.
    """
    conn = engine.connect()
    try:
        with translated_errors():
            if source.time_limit_s is not None:
                limit_statement_time(conn, source.time_limit_s)
            parts = chunks(conn, source, fmt, lang)
            first = next(parts)
    except BaseException:
        conn.close()
        raise
    return _rest(conn, first, parts, fmt, source.name)


def _rest(conn: Connection, first: bytes, parts: Iterator[bytes], fmt: Format, name: str) -> Iterator[bytes]:
    """Yield the export's bytes; a failure ends the file visibly broken, then aborts the response."""
    sent = 0
    try:
        for part in itertools.chain((first,), parts):
            yield part
            sent += len(part)
    except Exception as exc:
        reason = getattr(exc, "orig", None) or exc  # the driver's message, without the statement
        log.error("export of %s as %s broke off after %d bytes: %s", name, fmt.value, sent, reason)
        if fmt is Format.CSV:
            yield BROKEN_CSV_TAIL
        # Raised past the response start, it makes the server drop the connection before the chunked
        # body's last chunk, so clients see a truncated transfer rather than a complete file.
        raise ExportInterrupted(f"export of {name} as {fmt.value} broke off after {sent} bytes") from exc
    finally:
        conn.close()


def write_file(
    conn: Connection, sources: Sequence[ExportSource], fmt: Format, path: Path, lang: str = "id"
) -> int | None:
    """Write sources to `path` in any format; return the features written (None when streamed)."""
    if fmt is Format.GPKG:
        return write_gpkg(conn, sources, path, lang)
    if len(sources) != 1:
        raise InvalidInput(f"{fmt.value} holds one layer", f"{fmt.value} hanya memuat satu lapisan")
    if fmt is Format.SHP:
        return write_shapefile_zip(conn, sources[0], path, lang)
    if fmt is Format.XLSX:
        return write_xlsx(conn, sources[0], path)
    try:
        with path.open("wb") as out:
            for part in chunks(conn, sources[0], fmt, lang):
                out.write(part)
    except BaseException:
        path.unlink(missing_ok=True)  # a file cut short is never left looking complete
        raise
    return None


def write_temp(conn: Connection, sources: Sequence[ExportSource], fmt: Format, lang: str = "id") -> Path:
    """Write sources to a file in a fresh temporary folder; return its path (the caller removes it)."""
    folder = Path(tempfile.mkdtemp(prefix="kendali-export-"))
    try:
        path = folder / safe_filename(sources[0].name if len(sources) == 1 else "kendali", fmt)
        write_file(conn, sources, fmt, path, lang)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def remove_temp(path: Path) -> None:
    """Remove the temporary folder `write_temp` made for `path`."""
    shutil.rmtree(path.parent, ignore_errors=True)
