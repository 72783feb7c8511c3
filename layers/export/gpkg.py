"""GeoPackage export: one or more layers written in chunks by GDAL, with QGIS styles in `layer_styles`."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from pyogrio import set_gdal_config_options
from pyogrio.raw import write
from pyproj import CRS
from sqlalchemy import Connection

from layers.export.qml import qml_document, sld_document, source_legend
from layers.export.rows import ExportColumn, ExportSource, GeomEncoding, stream_rows
from layers.export.values import to_arrays

GEOMETRY_COLUMN = "geom"
# Each GDAL write reopens the file, so they are batched larger than the cursor's default chunk.
WRITE_ROWS = 20_000

# The table QGIS reads a layer's default style from (the same shape QGIS itself creates).
_LAYER_STYLES = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""
_REGISTER = (
    "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
    "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles')"
)
_INSERT_STYLE = (
    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
    "styleQML, styleSLD, useAsDefault, description, owner) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'kendali')"
)


def field_names(source: ExportSource) -> list[str]:
    """Return the attribute names written for a source: its id, then its columns."""
    return ["id", *(c.name for c in source.columns)]


def write_layer(
    conn: Connection,
    source: ExportSource,
    path: Path,
    driver: str,
    names: Sequence[str] | None = None,
    columns: Sequence[ExportColumn] | None = None,
    layer_options: dict[str, str] | None = None,
) -> int:
    """Stream a source into a GDAL dataset chunk by chunk (appending); return the features written."""
    columns = tuple(columns or source.columns)
    names = list(names or field_names(source))
    crs = CRS.from_epsg(source.srid).to_wkt()
    written = 0
    for rows in stream_rows(conn, source.statement(GeomEncoding.WKB), WRITE_ROWS):
        arrays = to_arrays(columns, rows)
        tz = {
            names[i + 1]: arrays.tz_offsets[c.name]
            for i, c in enumerate(columns)
            if c.name in arrays.tz_offsets
        }
        write(
            str(path),
            arrays.geometry,
            arrays.fields,
            names,
            field_mask=arrays.masks,
            layer=source.name,
            driver=driver,
            geometry_type=source.geometry_type,
            crs=crs,
            append=written > 0 or path.exists(),
            gdal_tz_offsets=tz,
            layer_options=None if written else layer_options,
        )
        written += len(rows)
    if written == 0:
        _write_empty(source, path, driver, names, columns, crs, layer_options)
    return written


def _write_empty(
    source: ExportSource,
    path: Path,
    driver: str,
    names: Sequence[str],
    columns: Sequence[ExportColumn],
    crs: str,
    layer_options: dict[str, str] | None,
) -> None:
    arrays = to_arrays(columns, [])
    write(
        str(path),
        arrays.geometry,
        arrays.fields,
        list(names),
        layer=source.name,
        driver=driver,
        geometry_type=source.geometry_type,
        crs=crs,
        append=path.exists(),
        layer_options=layer_options,
    )


def add_styles(path: Path, sources: Sequence[ExportSource], lang: str = "id") -> None:
    """Write each source's QML and SLD into the GeoPackage's `layer_styles`, as the layer's default style."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(_LAYER_STYLES)
        db.execute(_REGISTER)
        for source in sources:
            legend = source_legend(source)
            db.execute(
                _INSERT_STYLE,
                (
                    source.name,
                    GEOMETRY_COLUMN,
                    source.title.pick(lang),
                    qml_document(legend, lang),
                    sld_document(legend, lang),
                    source.description.pick(lang),
                ),
            )


def write_gpkg(conn: Connection, sources: Sequence[ExportSource], path: Path, lang: str = "id") -> int:
    """Write every source as a layer of one GeoPackage with its style; return the features written."""
    # A temporary file: durability is worthless here and fsync per batch is not.
    set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    total = 0
    for source in sources:
        options = {"IDENTIFIER": source.title.pick(lang), "DESCRIPTION": source.description.pick(lang)}
        total += write_layer(conn, source, path, "GPKG", layer_options=options)
    add_styles(path, sources, lang)
    return total
