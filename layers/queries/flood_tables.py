"""The flood-zone cache (migration 0009): computed zone sets, keyed by their inputs, and their polygons."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from layers.tables import metadata

# One row per computed set; `key` hashes every input (DEM file, parameters, each station's level band).
flood_zone_sets = Table(
    "flood_zone_sets",
    metadata,
    Column("key", Text, primary_key=True),
    Column("inputs", JSONB, nullable=False),
    Column("zone_count", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_flood_zone_sets_computed_at", "computed_at"),
)

flood_zones = Table(
    "flood_zones",
    metadata,
    Column("set_key", Text, ForeignKey("flood_zone_sets.key", ondelete="CASCADE"), nullable=False),
    Column("zone_no", Integer, nullable=False),
    Column("depth_class", SmallInteger, nullable=False),
    Column("hazard_class", SmallInteger, nullable=False),
    Column("station_code", Text, nullable=False),
    Column("station_name", Text, nullable=False),
    Column("river_code", Text, nullable=False),
    Column("stage_cm", Float, nullable=False),
    Column("max_depth_m", Float, nullable=False),
    Column("area_ha", Float, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
    PrimaryKeyConstraint("set_key", "zone_no"),
    CheckConstraint("depth_class BETWEEN 1 AND 3", name="depth_class"),
    CheckConstraint("hazard_class BETWEEN 0 AND 3", name="hazard_class"),
    # Zones are always read one set at a time, so the set key leads the spatial index.
    Index("ix_flood_zones_set_key_geom", "set_key", "geom", postgresql_using="gist"),
)
