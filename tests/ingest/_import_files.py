"""Small import files made on the fly: dumping points in each format, in lon/lat or UTM 52S."""

from __future__ import annotations

import csv
import json
import secrets
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from pyproj import Transformer

UTM = 32752


def points(n: int = 3, prefix: str | None = None) -> list[dict[str, Any]]:
    """Return n dumping-point rows near the centre of Ambon, with unique external ids."""
    prefix = prefix or f"imp-{secrets.token_hex(3)}"
    return [
        {
            "name": f"TPS uji {i}",
            "external_id": f"{prefix}-{i}",
            "tps_type": "kontainer",
            "capacity_m3": 6.0 + i,
            "lon": 128.18 + i * 0.001,
            "lat": -3.70 - i * 0.001,
        }
        for i in range(n)
    ]


def _frame(rows: list[dict[str, Any]], srid: int) -> gpd.GeoDataFrame:
    attrs = [{k: v for k, v in r.items() if k not in ("lon", "lat")} for r in rows]
    geoms = [shapely.Point(r["lon"], r["lat"]) for r in rows]
    frame = gpd.GeoDataFrame(attrs, geometry=geoms, crs=4326)
    return frame if srid == 4326 else frame.to_crs(srid)


def write_file(tmp: Path, fmt: str, rows: list[dict[str, Any]], srid: int = 4326) -> Path:
    """Write rows as geojson, gpkg, shapefile (zipped), csv (lat/lon) or csv_wkt; return the path."""
    if fmt.startswith("csv"):
        return write_csv(tmp / "points.csv", rows, wkt=fmt == "csv_wkt")
    frame = _frame(rows, srid)
    if fmt == "geojson":
        path = tmp / "points.geojson"
        path.write_text(frame.to_json())
        return path
    if fmt == "gpkg":
        path = tmp / "points.gpkg"
        frame.to_file(path, driver="GPKG")
        return path
    folder = tmp / "shp"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shapefile field names are cut to 10 characters, as intended here
        frame.to_file(folder / "tps.shp", driver="ESRI Shapefile")
    return zip_folder(folder, tmp / "points.zip", inner="tps/")


def zip_folder(folder: Path, target: Path, inner: str = "") -> Path:
    """Zip every file of a folder under `inner` (a subfolder, as people zip them)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, inner + path.name)
    return target


def write_csv(path: Path, rows: list[dict[str, Any]], *, wkt: bool = False, utm: bool = False) -> Path:
    """Write rows as CSV with lat/lon columns (or one WKT column); UTM 52S x/y when asked."""
    move = Transformer.from_crs(4326, UTM, always_xy=True).transform
    with path.open("w", newline="") as out:
        writer = None
        for row in rows:
            rec = {k: v for k, v in row.items() if k not in ("lon", "lat")}
            x, y = move(row["lon"], row["lat"]) if utm else (row["lon"], row["lat"])
            if wkt:
                rec["wkt"] = f"POINT ({x} {y})"
            else:
                rec |= {"latitude": y, "longitude": x} if not utm else {"y": y, "x": x}
            writer = writer or csv.DictWriter(out, fieldnames=list(rec))
            if out.tell() == 0:
                writer.writeheader()
            writer.writerow(rec)
    return path


def geojson_with(path: Path, rows: list[dict[str, Any]], geometries: list[object]) -> Path:
    """Write a GeoJSON file whose features carry the given (possibly broken) geometries."""
    features = [
        {
            "type": "Feature",
            "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")},
            "geometry": g,
        }
        for r, g in zip(rows, geometries, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path
