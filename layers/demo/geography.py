"""The demo city's geography on the real Ambon coastline: districts, villages, rivers and river basins.

Synthetic demo data: the place names are real, the boundaries and river courses are invented.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from geo.crs import metric_transformers
from layers.demo.gazetteer import DISTRICTS, ISTHMUS, LEIHITU_LIMIT, RIVERS, VILLAGES, LonLat, RiverSeed

GRID_DEG = 1e-9  # overlay precision (~0.1 mm): shared edges snap to the same vertices
GRID_M = 1e-3
MOUTH_INSET_M = 3.0
BASIN_REACH_M = 1_200.0
BASIN_SAMPLE_M = 40.0


@dataclass(frozen=True, slots=True)
class Place:
    """One district, village, river or basin, with properties valid for its layer's model."""

    code: str
    name: str
    geom: BaseGeometry  # EPSG:4326 lon/lat
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DemoGeography:
    """The whole demo city: its land and the reference layers drawn on it."""

    city: BaseGeometry
    districts: list[Place]
    villages: list[Place]
    rivers: list[Place]
    basins: list[Place]


def load_island() -> Polygon:
    """Return the Ambon Island land polygon (EPSG:4326) packaged with the demo."""
    text = resources.files("layers.demo").joinpath("data/ambon-island.geojson").read_text("utf-8")
    geom = shape(json.loads(text)["features"][0]["geometry"])
    if not isinstance(geom, Polygon):
        raise TypeError(f"expected a Polygon coastline, got {geom.geom_type}")
    return geom


@cache
def build_geography() -> DemoGeography:
    """Build the demo city's geography; deterministic and built once per process."""
    island = load_island()
    leitimur, leihitu = _split_land(island)
    villages = _build_villages(leitimur, leihitu)
    districts = _build_districts(villages)
    city = _union([d.geom for d in districts])
    rivers = [_build_river(seed, island, city) for seed in RIVERS]
    basins = _build_basins(rivers, city)
    return DemoGeography(city=city, districts=districts, villages=villages, rivers=rivers, basins=basins)


def _union(geoms: Sequence[BaseGeometry], grid_size: float = GRID_DEG) -> BaseGeometry:
    """Return the union, without the hairline holes that snapping leaves between touching cells."""
    merged = shapely.union_all(list(geoms), grid_size=grid_size)
    parts = [Polygon(p.exterior) for p in shapely.get_parts(merged) if isinstance(p, Polygon)]
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


def _split_land(island: Polygon) -> tuple[Polygon, Polygon]:
    """Return (Leitimur, the city's part of Leihitu), parted at the Passo isthmus."""
    pieces = shapely.get_parts(split(island, LineString(ISTHMUS)))
    leitimur = _piece_holding(pieces, Point(128.20, -3.72))
    leihitu = _piece_holding(pieces, Point(128.20, -3.60))
    city_leihitu = shapely.intersection(leihitu, Polygon(LEIHITU_LIMIT), grid_size=GRID_DEG)
    return leitimur, _largest_polygon(city_leihitu)


def _piece_holding(pieces: Sequence[BaseGeometry], point: Point) -> Polygon:
    for piece in pieces:
        if isinstance(piece, Polygon) and piece.contains(point):
            return piece
    raise RuntimeError(f"no land piece holds {point.wkt}")


def _largest_polygon(geom: BaseGeometry) -> Polygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon)]
    return max(parts, key=lambda p: p.area)


def _voronoi_cells(seeds: Sequence[LonLat], land: Polygon) -> list[BaseGeometry]:
    """Return the Voronoi cell of each seed (in seed order), clipped to the land."""
    envelope = shapely.box(*land.buffer(0.05).bounds)
    cells = shapely.voronoi_polygons(MultiPoint(list(seeds)), extend_to=envelope, ordered=True)
    return [shapely.intersection(c, land, grid_size=GRID_DEG) for c in shapely.get_parts(cells)]


def _village_shapes(land: Polygon, indices: Sequence[int]) -> dict[int, BaseGeometry]:
    """Return the shape of each village (by index into VILLAGES) whose seeds lie on this land."""
    owners = [i for i in indices for _ in VILLAGES[i].seeds]
    seeds = [s for i in indices for s in VILLAGES[i].seeds]
    shapes: dict[int, list[BaseGeometry]] = {i: [] for i in indices}
    for owner, cell in zip(owners, _voronoi_cells(seeds, land), strict=True):
        shapes[owner].append(cell)
    return {i: _union(parts) for i, parts in shapes.items()}


def _build_villages(leitimur: Polygon, leihitu: Polygon) -> list[Place]:
    """Return the villages: Voronoi cells of their seeds on each side of the isthmus."""
    on_leitimur = [i for i, v in enumerate(VILLAGES) if leitimur.contains(Point(v.seeds[0]))]
    on_leihitu = [i for i in range(len(VILLAGES)) if i not in on_leitimur]
    shapes = _village_shapes(leitimur, on_leitimur) | _village_shapes(leihitu, on_leihitu)
    _check_single_polygons(shapes)
    codes = _village_codes()
    populations = _village_populations()
    places = []
    for i, village in enumerate(VILLAGES):
        props = {
            "code": codes[i],
            "district_code": village.district_code,
            "kind": village.kind,
            "population": populations[i],
        }
        places.append(Place(codes[i], village.name, shapes[i], props))
    return places


def _check_single_polygons(shapes: dict[int, BaseGeometry]) -> None:
    """Raise if a village came out in pieces: its seeds in the gazetteer need moving."""
    for i, geom in shapes.items():
        if not isinstance(geom, Polygon):
            raise RuntimeError(f"village {VILLAGES[i].name!r} is a {geom.geom_type}; move its seeds")


def _village_codes() -> list[str]:
    """Return Kemendagri-style codes: 1xxx for kelurahan, 2xxx for desa and negeri, per district."""
    counters: dict[tuple[str, int], int] = {}
    codes = []
    for village in VILLAGES:
        series = 1 if village.kind == "kelurahan" else 2
        n = counters.get((village.district_code, series), 0) + 1
        counters[(village.district_code, series)] = n
        codes.append(f"{village.district_code}.{series}{n:03d}")
    return codes


def _village_populations() -> list[int]:
    """Split each district's population over its villages by weight, summing exactly."""
    out = [0] * len(VILLAGES)
    for district in DISTRICTS:
        members = [i for i, v in enumerate(VILLAGES) if v.district_code == district.code]
        weights = np.array([VILLAGES[i].weight for i in members])
        shares = district.population * weights / weights.sum()
        counts = np.floor(shares).astype(int)
        for k in np.argsort(counts - shares)[: district.population - int(counts.sum())]:
            counts[k] += 1
        for i, n in zip(members, counts, strict=True):
            out[i] = int(n)
    return out


def _build_districts(villages: Sequence[Place]) -> list[Place]:
    """Return the districts as the union of their villages."""
    places = []
    for district in DISTRICTS:
        members = [v.geom for v in villages if v.properties["district_code"] == district.code]
        props = {"code": district.code, "population": district.population}
        places.append(Place(district.code, district.name, _union(members), props))
    return places


def _to_metric(geom: BaseGeometry) -> BaseGeometry:
    forward, _ = metric_transformers()
    return shapely.transform(geom, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))


def _to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    _, inverse = metric_transformers()
    return shapely.transform(geom, lambda xy: np.column_stack(inverse.transform(xy[:, 0], xy[:, 1])))


def _meander(line_m: LineString, code: str) -> LineString:
    """Return the line with gentle, deterministic sideways bends that vanish at both ends."""
    rng = np.random.default_rng(int.from_bytes(code.encode(), "big"))
    length = line_m.length
    s = np.linspace(0.0, length, max(int(length / 20.0), 2))
    points = shapely.get_coordinates(shapely.line_interpolate_point(line_m, s))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line_m, np.minimum(s + 30.0, length)))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(line_m, np.maximum(s - 30.0, 0.0)))
    tangent = ahead - behind
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]]) / np.linalg.norm(tangent, axis=1)[:, None]
    offset = np.zeros_like(s)
    for amplitude, wavelength in ((45.0, 650.0), (20.0, 260.0)):
        offset += (
            amplitude * rng.uniform(0.7, 1.3) * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 2 * np.pi))
        )
    offset *= np.sin(np.pi * s / length) ** 0.5
    return LineString(points + normal * offset[:, None])


def _build_river(seed: RiverSeed, island: Polygon, city: BaseGeometry) -> Place:
    """Return a meandering river from its source to a mouth a few metres inside the coast."""
    coast = island.exterior
    mouth = coast.interpolate(coast.project(Point(seed.waypoints[-1])))
    course_m = _meander(_to_metric(LineString([*seed.waypoints[:-1], mouth])), seed.code)
    coords = shapely.get_coordinates(course_m)
    direction = coords[-1] - coords[-2]
    coords[-1] = coords[-1] - direction / np.linalg.norm(direction) * MOUTH_INSET_M
    river_m = LineString(coords)
    river = _to_lonlat(river_m)
    if not city.contains(river):
        raise RuntimeError(f"river {seed.code} leaves the city land")
    props = {"code": seed.code, "length_km": round(river_m.length / 1000.0, 2)}
    return Place(seed.code, seed.name, river, props)


def _build_basins(rivers: Sequence[Place], city: BaseGeometry) -> list[Place]:
    """Return one catchment per river: the land nearer to it than to any other river, within reach."""
    rivers_m = [_to_metric(r.geom) for r in rivers]
    owners, samples = [], []
    for k, line in enumerate(rivers_m):
        s = np.linspace(0.0, line.length, max(int(line.length / BASIN_SAMPLE_M), 2))
        samples.extend(shapely.get_coordinates(shapely.line_interpolate_point(line, s)).tolist())
        owners.extend([k] * len(s))
    envelope = shapely.box(*_to_metric(city).buffer(5_000).bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(samples), extend_to=envelope, ordered=True))
    places = []
    for k, (river, line) in enumerate(zip(rivers, rivers_m, strict=True)):
        reach_m = shapely.intersection(
            _union([c for c, o in zip(cells, owners, strict=True) if o == k], GRID_M),
            line.buffer(BASIN_REACH_M),
            grid_size=GRID_M,
        )
        # Clip in lon/lat: the coast's straight edges in degrees are not straight in UTM.
        region = shapely.intersection(_to_lonlat(reach_m), city, grid_size=GRID_DEG)
        region = _union([p for p in shapely.get_parts(region) if p.intersects(river.geom)])
        code = f"DAS-{river.code}"
        props = {"code": code, "river_code": river.code}
        places.append(Place(code, f"DAS {river.name}", region, props))
    return places
