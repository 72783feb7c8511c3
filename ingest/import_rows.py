"""Turning a file's rows into import candidates: columns to fields, CSV geometry, CRS to EPSG:4326, checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from geo.digits import whole_number
from geo.kinds import GeometryKind
from geo.validation import MAX_VERTICES, GeometryError, check_geometry
from ingest.import_formats import Format, ImportFileError, RawTable
from layers.catalog.spec import LayerSpec
from layers.editing.upsert import Candidate, Rejection

WGS84: Final = CRS.from_epsg(4326)
LAT_NAMES: Final = ("lat", "latitude", "y")
LON_NAMES: Final = ("lon", "lng", "long", "longitude", "x")
WKT_NAMES: Final = ("wkt", "geometry", "geom", "the_geom")
SHAPEFILE_FIELD_CHARS: Final = 10
# GEOS type ids (shapely.get_type_id) and their GeoJSON names.
_GEOS_TYPES: Final = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)

# A row's geometry, or why it has none (English, Indonesian), or None when the file gave none.
Cell: TypeAlias = BaseGeometry | tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class Columns:
    """Which file column feeds which field; the rest is ignored (and reported)."""

    fields: dict[str, str]  # file column -> name | external_id | property
    ignored: list[str]
    wkt: str | None = None
    lat: str | None = None
    lon: str | None = None


def parse_crs(text: str) -> CRS:
    """Return the CRS of an `EPSG:n` code (the only form accepted from users); raise ImportFileError."""
    code = text.strip().upper().removeprefix("EPSG:")
    try:
        number = whole_number(code, 6)
        if number is None:
            raise CRSError(code)
        return CRS.from_epsg(number)
    except CRSError:
        raise ImportFileError(
            f"unknown CRS {text[:40]!r}; give it as EPSG:<code>, e.g. EPSG:32752",
            f"CRS {text[:40]!r} tidak dikenal; tulis sebagai EPSG:<kode>, mis. EPSG:32752",
        ) from None


def crs_label(crs: CRS) -> str:
    """Return `EPSG:n` when the CRS has a code, else its name."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else str(crs.name)


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _missing_column(column: str) -> ImportFileError:
    return ImportFileError(
        f"the file has no column {column[:60]!r}", f"berkas tidak memiliki kolom {column[:60]!r}"
    )


def _target(column: str, targets: Sequence[str], fmt: Format) -> str | None:
    """Return the field a column feeds: same name (any case), or a shapefile's 10-character cut."""
    lowered = column.lower()
    exact = [t for t in targets if t.lower() == lowered]
    if exact:
        return exact[0]
    if fmt.name == "shapefile" and len(column) == SHAPEFILE_FIELD_CHARS:
        cut = [t for t in targets if t.lower().startswith(lowered)]
        return cut[0] if len(cut) == 1 else None
    return None


def map_columns(
    layer: LayerSpec, fmt: Format, columns: Sequence[str], id_column: str | None, name_column: str | None
) -> Columns:
    """Decide which column feeds name, external_id and each declared property."""
    for explicit in (id_column, name_column):
        if explicit is not None and explicit not in columns:
            raise _missing_column(explicit)
    wkt = lat = lon = None
    if fmt.name == "csv":
        wkt = _find(columns, WKT_NAMES)
        lat, lon = (None, None) if wkt else (_find(columns, LAT_NAMES), _find(columns, LON_NAMES))
        if wkt is None and (lat is None or lon is None):
            raise ImportFileError(
                "a CSV needs a WKT column (wkt, geometry) or latitude and longitude columns (lat/latitude/y, "
                "lon/lng/longitude/x)",
                "CSV memerlukan kolom WKT (wkt, geometry) atau kolom lintang dan bujur (lat/latitude/y, "
                "lon/lng/longitude/x)",
            )
    taken = {c for c in (wkt, lat, lon, id_column, name_column) if c}
    fields = {c: t for c, t in ((id_column, "external_id"), (name_column, "name")) if c}
    targets = [t for t in ("name", "external_id", *layer.properties.model_fields) if t not in fields.values()]
    ignored: list[str] = []
    for column in columns:
        if column in taken:
            continue
        target = _target(column, targets, fmt)
        if target is None or target in fields.values():
            ignored.append(column)
        else:
            fields[column] = target
    return Columns(fields, ignored, wkt, lat, lon)


def _reject(row: int, external_id: str | None, en: str, id_: str) -> Rejection:
    return Rejection(row, external_id, en, id_)


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def csv_geometry(record: dict[str, object], cols: Columns) -> BaseGeometry | tuple[str, str]:
    """Return a row's geometry from its WKT or lat/lon cells, or the (English, Indonesian) reason."""
    if cols.wkt is not None:
        text = record.get(cols.wkt)
        if text is None:
            return ("the WKT cell is empty", "sel WKT kosong")
        try:
            return shapely.from_wkt(str(text))
        except GEOSException:
            return (
                f"the WKT {str(text)[:40]!r} cannot be read",
                f"WKT {str(text)[:40]!r} tidak dapat dibaca",
            )
    lon, lat = record.get(cols.lon or ""), record.get(cols.lat or "")
    for axis, axis_id, raw in (("longitude", "bujur", lon), ("latitude", "lintang", lat)):
        if raw is None:
            return (f"the {axis} cell is empty", f"sel {axis_id} kosong")
        if _number(raw) is None:
            shown = str(raw)[:40]
            return (f"{axis} {shown!r} is not a number", f"{axis_id} {shown!r} bukan angka")
    return shapely.Point(_number(lon), _number(lat))


def to_wgs84(geoms: list[Cell], source: CRS) -> list[Cell]:
    """Return the geometries reprojected from `source` to EPSG:4326 lon/lat (reasons and None stay).

    Every coordinate of every geometry goes through PROJ in one call.
    """
    if source.equals(WGS84, ignore_axis_order=True):
        return geoms
    transformer = Transformer.from_crs(source, WGS84, always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    at = [i for i, g in enumerate(geoms) if isinstance(g, BaseGeometry)]
    if not at:
        return geoms
    moved = shapely.transform(np.array([geoms[i] for i in at], dtype=object), move)
    result = list(geoms)
    for i, geom in zip(at, moved, strict=True):
        result[i] = geom
    return result


def _passes(geoms: np.ndarray, kind: GeometryKind) -> np.ndarray:
    """Return, per geometry, whether every check of check_geometry surely passes (computed in bulk).

    A geometry that fails here goes through check_geometry itself, which names the reason; 3D ones too.
    """
    accepted = [t for t, name in enumerate(_GEOS_TYPES) if kind.accepts(name)]
    ok = np.isin(shapely.get_type_id(geoms), accepted)
    ok &= ~shapely.is_empty(geoms) & ~shapely.has_z(geoms)
    ok &= shapely.get_num_coordinates(geoms) <= MAX_VERTICES
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1) | (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    ok &= np.bincount(index[bad], minlength=len(geoms)) == 0
    ok[ok] = shapely.is_valid(geoms[ok])
    return ok


def checked(cells: list[Cell], kind: GeometryKind) -> list[Cell]:
    """Return each geometry as check_geometry returns it, or the (English, Indonesian) reason it fails."""
    at = [i for i, g in enumerate(cells) if isinstance(g, BaseGeometry)]
    result = list(cells)
    if not at:
        return result
    geoms = np.array([cells[i] for i in at], dtype=object)
    ok = _passes(geoms, kind)
    for i, geom, fine in zip(at, geoms, ok, strict=True):
        if fine:
            continue
        try:
            result[i] = check_geometry(geom, expected=kind)
        except GeometryError as exc:
            result[i] = (exc.reason, exc.reason_id)
    return result


def external_id_text(value: object) -> str | None:
    """Return an external id cell as text (a whole float such as 12.0 reads as "12")."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def candidates(
    layer: LayerSpec, table: RawTable, cols: Columns, geoms: list[Cell]
) -> tuple[list[Candidate], list[Rejection]]:
    """Return the rows that can be written and the rows refused for their geometry."""
    good: list[Candidate] = []
    bad: list[Rejection] = []
    fields = cols.fields
    cells = checked(geoms, layer.geometry)
    for index, (record, geom) in enumerate(zip(table.records, cells, strict=True), start=1):
        values = {fields[c]: v for c, v in record.items() if v is not None and c in fields}
        external_id = external_id_text(values.pop("external_id", None))
        name = values.pop("name", None)
        if isinstance(geom, tuple):
            bad.append(_reject(index, external_id, *geom))
        elif geom is None:
            bad.append(
                _reject(index, external_id, "the row has no geometry", "baris tidak memiliki geometri")
            )
        else:
            good.append(Candidate(index, external_id, name, values, geom))
    return good, bad
