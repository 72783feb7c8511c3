"""Row values in the shapes writers need: numpy arrays for GDAL, safe text for CSV, XLSX and KML."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Row

from layers.export.rows import ExportColumn

# A cell starting with one of these runs as a formula in a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
GMT = 100  # GDAL's time zone flag for UTC


def neutralised(text: str) -> str:
    """Return text that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def iso(value: datetime) -> str:
    """Return an RFC 3339 UTC timestamp."""
    return value.astimezone(UTC).isoformat()


def _cell_string(value: Any) -> str:
    return "" if value is None else neutralised(value if isinstance(value, str) else str(value))


def _cell_number(value: Any) -> str:
    return "" if value is None else repr(value)


def _cell_boolean(value: Any) -> str:
    return "" if value is None else "true" if value else "false"


def _cell_datetime(value: Any) -> str:
    return "" if value is None else iso(value)


CELL_FORMATTERS: dict[str, Callable[[Any], str]] = {
    "string": _cell_string,
    "number": _cell_number,
    "integer": _cell_number,
    "boolean": _cell_boolean,
    "datetime": _cell_datetime,
}


def cell_formatters(kinds: Sequence[str]) -> list[Callable[[Any], str]]:
    """Return one CSV cell formatter per column kind: empty for null, RFC 3339 times, neutralised text."""
    return [CELL_FORMATTERS[kind] for kind in kinds]


def json_value(value: Any) -> Any:
    """Return a value JSON can hold (times as RFC 3339 text)."""
    return iso(value) if isinstance(value, datetime) else value


@dataclass(slots=True)
class Arrays:
    """One chunk of rows as GDAL wants it: geometry WKB, field arrays, null masks, time zone flags."""

    geometry: npt.NDArray[Any]
    fields: list[npt.NDArray[Any]]
    masks: list[npt.NDArray[np.bool_]]
    tz_offsets: dict[str, npt.NDArray[np.int32]]


def _array(kind: str, values: list[Any]) -> npt.NDArray[Any]:
    if kind == "number":
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    if kind == "integer":
        return np.array([0 if v is None else int(v) for v in values], dtype=np.int64)
    if kind == "boolean":
        return np.array([bool(v) for v in values], dtype=np.bool_)
    if kind == "datetime":
        naive = [None if v is None else v.astimezone(UTC).replace(tzinfo=None) for v in values]
        return np.array(["NaT" if v is None else v for v in naive], dtype="datetime64[ms]")
    return np.array(
        ["" if v is None else iso(v) if isinstance(v, datetime) else str(v) for v in values], dtype=object
    )


def to_arrays(columns: Sequence[ExportColumn], rows: Sequence[Row[Any]]) -> Arrays:
    """Return a chunk of rows (id, columns…, geom) as arrays for pyogrio's writer."""
    fields: list[npt.NDArray[Any]] = [np.array([row[0] for row in rows], dtype=np.int64)]
    masks: list[npt.NDArray[np.bool_]] = [np.zeros(len(rows), dtype=np.bool_)]
    tz: dict[str, npt.NDArray[np.int32]] = {}
    for index, column in enumerate(columns, start=1):
        values = [row[index] for row in rows]
        fields.append(_array(column.kind, values))
        masks.append(np.array([v is None for v in values], dtype=np.bool_))
        if column.kind == "datetime":
            tz[column.name] = np.full(len(rows), GMT, dtype=np.int32)
    geometry = np.array([bytes(row[len(columns) + 1]) for row in rows], dtype=object)
    return Arrays(geometry, fields, masks, tz)
