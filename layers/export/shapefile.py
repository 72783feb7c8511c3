"""Zipped Shapefile export: 10-character field names mapped without collisions, documented in the archive."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import Connection

from layers.export.gpkg import field_names, write_layer
from layers.export.qml import Legend, qml_document, source_legend
from layers.export.rows import ExportColumn, ExportSource

DBF_NAME_LENGTH = 10
FIELDS_FILE = "fields.csv"
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _candidate(base: str, suffix: str) -> str:
    return base[: DBF_NAME_LENGTH - len(suffix)] + suffix


def dbf_names(names: Iterable[str]) -> dict[str, str]:
    """Map each name to a unique DBF field name of at most 10 ASCII characters (unique ignoring case)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = _UNSAFE.sub("_", name) or "field"
        candidate = base[:DBF_NAME_LENGTH]
        number = 1
        while candidate.casefold() in taken:
            number += 1
            candidate = _candidate(base, f"_{number}")
        taken.add(candidate.casefold())
        out[name] = candidate
    return out


def _dbf_columns(columns: Sequence[ExportColumn]) -> tuple[ExportColumn, ...]:
    # DBF has no date-time type: times travel as RFC 3339 text.
    return tuple(ExportColumn(c.name, "string" if c.kind == "datetime" else c.kind) for c in columns)


def fields_table(source: ExportSource, mapping: dict[str, str]) -> str:
    """Return the CSV that documents the mapping: field, shapefile_field, type."""
    kinds = {"id": "integer", **{c.name: c.kind for c in source.columns}}
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(["field", "shapefile_field", "type"])
    for name, short in mapping.items():
        out.writerow([name, short, kinds[name]])
    return buffer.getvalue()


def _mapped_legend(source: ExportSource, mapping: dict[str, str]) -> Legend:
    legend = source_legend(source)
    attribute = mapping.get(legend.attribute) if legend.attribute else None
    return Legend(legend.name, legend.title, legend.geometry, legend.style, attribute, legend.labels)


def write_shapefile_zip(conn: Connection, source: ExportSource, target: Path, lang: str = "id") -> int:
    """Write a source as a zipped Shapefile (.shp .shx .dbf .prj .cpg, a .qml style, fields.csv)."""
    mapping = dbf_names(field_names(source))
    with TemporaryDirectory(prefix="kendali-shp-") as tmp:
        shp = Path(tmp) / f"{source.name}.shp"
        written = write_layer(
            conn,
            source,
            shp,
            "ESRI Shapefile",
            names=list(mapping.values()),
            columns=_dbf_columns(source.columns),
            layer_options={"ENCODING": "UTF-8"},
        )
        (Path(tmp) / f"{source.name}.qml").write_text(
            qml_document(_mapped_legend(source, mapping), lang), encoding="utf-8"
        )
        (Path(tmp) / FIELDS_FILE).write_text(fields_table(source, mapping), encoding="utf-8")
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, arcname=part.name)
    return written
