"""The flood-zone cache: gather a request's inputs, key them, and compute a zone set only when it is new.

A set is keyed by a hash of everything the zones depend on: the DEM and hazard files, the rivers' and
stations' geometry versions, the parameters, and each station's stage band. A station whose level moves
within its band keeps the key, so the zones are not recomputed; a move into another band changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import Connection, Float, Select, delete, func, insert, literal, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert

from layers.queries.flood_model import River, Station, Zone, band_floor_cm, compute_zones
from layers.queries.flood_tables import flood_zone_sets, flood_zones
from layers.rasters import RasterSource, SourceNotFound, list_rasters
from layers.tables import asset_status, assets, observations

MODEL_VERSION = 1
BAND_CM = 25.0
KEEP_SETS = 20


@dataclass(frozen=True, slots=True)
class FloodRequest:
    """What a zone set is drawn for: model parameters and where the stages come from."""

    distance_m: float
    margin_m: float
    level_cm: float | None = None  # what-if: every station at this level
    at: datetime | None = None  # the levels stations had at that time


@dataclass(frozen=True, slots=True)
class _Inputs:
    dem: RasterSource
    hazard: RasterSource
    rivers: list[River]
    stations: list[Station]
    versions: list[tuple[str, int]]  # (external id, version) of every river and station


def zone_set_key(conn: Connection, request: FloodRequest) -> str:
    """Return the key of the zone set for `request`, computing and storing the set if it is missing."""
    inputs = _gather(conn, request)
    key = _key(inputs, request)
    if _exists(conn, key):
        return key
    # Two workers asking for the same new set: the second waits here, then finds it stored.
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    if not _exists(conn, key):
        zones = compute_zones(
            inputs.dem.path,
            inputs.hazard.path,
            inputs.rivers,
            inputs.stations,
            distance_m=request.distance_m,
            margin_m=request.margin_m,
        )
        _store(conn, key, _key_payload(inputs, request), zones)
        _prune(conn, key)
    return key


def _gather(conn: Connection, request: FloodRequest) -> _Inputs:
    """Read the rasters, rivers and stations (with their banded stages) from the database."""
    rasters = {r.kind: r for r in list_rasters(conn)}
    for kind in ("dem", "flood_hazard"):
        if kind not in rasters:
            raise SourceNotFound(kind)
    river_rows = conn.execute(
        select(
            assets.c.external_id,
            assets.c.version,
            assets.c.properties["code"].astext.label("code"),
            assets.c.geom,
        )
        .where(assets.c.layer_id == "rivers")
        .order_by(assets.c.external_id)
    ).all()
    rivers = [River(row.code, to_shape(row.geom)) for row in river_rows]
    stations, versions = _stations(conn, request)
    versions += [(row.external_id, row.version) for row in river_rows]
    return _Inputs(rasters["dem"], rasters["flood_hazard"], rivers, stations, versions)


def _stations(conn: Connection, request: FloodRequest) -> tuple[list[Station], list[tuple[str, int]]]:
    """Return the stations with their stage bands, and their (code, version) pairs."""
    rows = conn.execute(_stations_query(request)).all()
    stations = [
        Station(
            code=row.external_id,
            name=row.name,
            river_code=row.river_code,
            point=to_shape(row.geom),
            stage_cm=None if row.level_cm is None else band_floor_cm(row.level_cm, BAND_CM),
        )
        for row in rows
    ]
    return stations, [(row.external_id, row.version) for row in rows]


def _stations_query(request: FloodRequest) -> Select[Any]:
    """Return the stations with their level in cm: what-if, as it was at a time, or live."""
    a = assets.c
    query = (
        select(
            a.external_id, a.name, a.version, a.properties["river_code"].astext.label("river_code"), a.geom
        )
        .where(a.layer_id == "das_stations")
        .order_by(a.external_id)
    )
    if request.level_cm is not None:
        return query.add_columns(literal(request.level_cm, Float).label("level_cm"))
    if request.at is not None:
        o = observations.c
        level_at = (
            select(o.value)
            .where(o.asset_id == a.id, o.observed_at <= request.at, o.value.is_not(None))
            .order_by(o.observed_at.desc())
            .limit(1)
            .lateral("level_at")
        )
        return query.add_columns(level_at.c.value.label("level_cm")).outerjoin(level_at, true())
    return query.add_columns(asset_status.c.value.label("level_cm")).outerjoin(
        asset_status, asset_status.c.asset_id == a.id
    )


def _file_identity(source: RasterSource) -> list[Any]:
    """Return what identifies a raster file's content: its id, path, size and modification time."""
    stat = source.path.stat()
    return [source.id, str(source.path), stat.st_size, stat.st_mtime_ns]


def _key_payload(inputs: _Inputs, request: FloodRequest) -> dict[str, Any]:
    """Return every input the zones depend on, as JSON."""
    return {
        "model": MODEL_VERSION,
        "dem": _file_identity(inputs.dem),
        "hazard": _file_identity(inputs.hazard),
        "distance_m": request.distance_m,
        "margin_m": request.margin_m,
        "band_cm": BAND_CM,
        "versions": sorted(inputs.versions),
        "stages_cm": sorted([s.code, s.stage_cm] for s in inputs.stations),
    }


def _key(inputs: _Inputs, request: FloodRequest) -> str:
    """Return the hash that names the zone set of these inputs."""
    text = json.dumps(_key_payload(inputs, request), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _exists(conn: Connection, key: str) -> bool:
    """Return whether the set `key` is stored."""
    found = conn.execute(select(flood_zone_sets.c.key).where(flood_zone_sets.c.key == key)).first()
    return found is not None


def _store(conn: Connection, key: str, payload: dict[str, Any], zones: Sequence[Zone]) -> None:
    """Insert a zone set and its zones (a set already stored by another worker is left as it is)."""
    added = conn.execute(
        pg_insert(flood_zone_sets)
        .values(key=key, inputs=payload, zone_count=len(zones))
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if added.rowcount == 0 or not zones:
        return
    conn.execute(insert(flood_zones), [_zone_row(key, number, zone) for number, zone in enumerate(zones, 1)])


def _zone_row(key: str, number: int, zone: Zone) -> dict[str, Any]:
    """Return the table row of one zone."""
    return {
        "set_key": key,
        "zone_no": number,
        "depth_class": zone.depth_class,
        "hazard_class": zone.hazard_class,
        "station_code": zone.station.code,
        "station_name": zone.station.name,
        "river_code": zone.station.river_code,
        "stage_cm": zone.station.stage_cm,
        "max_depth_m": zone.max_depth_m,
        "area_ha": zone.area_ha,
        "geom": from_shape(zone.geom, srid=4326),
    }


def _prune(conn: Connection, keep_key: str) -> None:
    """Delete all but the newest KEEP_SETS sets (never the one just stored)."""
    s = flood_zone_sets.c
    newest = select(s.key).order_by(s.computed_at.desc(), s.key).limit(KEEP_SETS).scalar_subquery()
    conn.execute(delete(flood_zone_sets).where(s.key != keep_key, s.key.not_in(newest)))
