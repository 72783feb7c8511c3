"""CSV (streamed, WKT and lon/lat columns) and XLSX (constant memory): cells can never run as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row
from xlsxwriter import Workbook
from xlsxwriter.worksheet import Worksheet

from geo.kinds import GeometryKind
from layers.export.rows import ExportSource, GeomEncoding, stream_rows
from layers.export.values import cell_formatters, neutralised

XLSX_MAX_ROWS = 1_048_576  # one of them is the header
XLSX_MAX_CELL = 32_767
BOM = "\ufeff"  # lets spreadsheet programs read the file as UTF-8


def header(source: ExportSource) -> list[str]:
    """Return the column names of a CSV or XLSX export: id, the columns, the geometry columns."""
    geometry = ["wkt", "lon", "lat"] if source.geometry is GeometryKind.POINT else ["wkt"]
    return ["id", *(c.name for c in source.columns), *geometry]


def csv_chunks(conn: Connection, source: ExportSource) -> Iterator[bytes]:
    """Yield a CSV export as UTF-8 bytes, one chunk of rows at a time; the first holds the header too."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(header(source))
    lead = BOM + buffer.getvalue()  # held back until the statement has given its first rows
    geometry = ["string", "number", "number"] if source.geometry is GeometryKind.POINT else ["string"]
    cells = cell_formatters(["integer", *(c.kind for c in source.columns), *geometry])
    for rows in stream_rows(conn, source.statement(GeomEncoding.WKT)):
        buffer.seek(0)
        buffer.truncate()
        out.writerows([cell(value) for cell, value in zip(cells, row, strict=True)] for row in rows)
        yield (lead + buffer.getvalue()).encode("utf-8")
        lead = ""
    if lead:
        yield lead.encode("utf-8")


def _sheet(book: Workbook, source: ExportSource, number: int) -> Worksheet:
    name = source.name[:28] if number == 1 else f"{source.name[:24]} ({number})"
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    for col, title in enumerate(header(source)):
        sheet.write_string(0, col, title, bold)
    sheet.freeze_panes(1, 0)
    return sheet


def _write_cell(sheet: Worksheet, row: int, col: int, value: Any, when: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value.astimezone(UTC), when)
    else:
        text = neutralised(str(value))
        sheet.write_string(row, col, text if len(text) <= XLSX_MAX_CELL else "")


def _rows(conn: Connection, source: ExportSource) -> Iterator[Row[Any]]:
    for chunk in stream_rows(conn, source.statement(GeomEncoding.WKT)):
        yield from chunk


def write_xlsx(conn: Connection, source: ExportSource, target: Path) -> int:
    """Write a source as an XLSX workbook, adding sheets past Excel's row limit; return rows written."""
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = Workbook(str(target), {**options, "remove_timezone": True, "tmpdir": str(target.parent)})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheets = 1
    sheet = _sheet(book, source, sheets)
    line = 0
    written = 0
    for record in _rows(conn, source):
        line += 1
        if line == XLSX_MAX_ROWS:
            sheets += 1
            sheet = _sheet(book, source, sheets)
            line = 1
        for col, value in enumerate(record):
            _write_cell(sheet, line, col, value, when)
        written += 1
    book.set_properties({"title": source.title.id, "comments": f"{source.description.id} (UTC)"})
    book.close()
    return written
