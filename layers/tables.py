"""The schema as SQLAlchemy Core tables; alembic/ migrations are the only way it changes."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Interval,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


agencies = Table(
    "agencies",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name_id", Text, nullable=False),
    Column("name_en", Text, nullable=False),
)

layers = Table(
    "layers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("title_id", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("description_id", Text, nullable=False),
    Column("description_en", Text, nullable=False),
    Column("geometry_type", Text, nullable=False),
    Column("owner", Text, ForeignKey("agencies.code"), nullable=False),
    Column("access", Text, nullable=False),
    Column("storage", Text, nullable=False),
    Column("property_schema", JSONB, nullable=False),
    Column("statuses", JSONB(none_as_null=True)),
    Column("status_unit", Text),
    Column("report_every", Interval),
    Column("stale_after", Interval),
    Column("style", JSONB, nullable=False),
    Column("min_zoom", Integer, nullable=False),
    Column("max_zoom", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("access IN ('public', 'internal', 'restricted')", name="access"),
    CheckConstraint("storage IN ('assets', 'areas')", name="storage"),
)

assets = Table(
    "assets",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer_id", Text, ForeignKey("layers.id"), nullable=False, index=True),
    Column("external_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("geom", Geometry(srid=4326, spatial_index=True), nullable=False),
    Column("footprint", Geometry("POLYGON", srid=4326, spatial_index=True)),
    Column("properties", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("agency", Text, ForeignKey("agencies.code"), nullable=False),
    *_timestamps(),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("demo", Boolean, nullable=False, server_default=text("false")),
    UniqueConstraint("layer_id", "external_id"),
    Index("ix_assets_layer_id_id", "layer_id", "id"),  # one layer's page in id order
    CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    CheckConstraint("NOT ST_IsEmpty(geom)", name="geom_not_empty"),
    Index("ix_assets_layer_id_geom", "layer_id", "geom", postgresql_using="gist"),
)

asset_status = Table(
    "asset_status",
    metadata,
    Column("asset_id", BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column("status", Text, nullable=False),
    Column("value", Float),
    Column("unit", Text),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", Text, nullable=False),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)

# Append-only history, partitioned by month of observed_at (see the migration's partition function).
observations = Table(
    "observations",
    metadata,
    Column("asset_id", BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("status", Text, nullable=False),
    Column("value", Float),
    Column("unit", Text),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", Text, nullable=False),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    PrimaryKeyConstraint("asset_id", "source", "observed_at"),
    Index("ix_observations_asset_id_observed_at", "asset_id", "observed_at"),
    postgresql_partition_by="RANGE (observed_at)",
)

areas = Table(
    "areas",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer_id", Text, ForeignKey("layers.id"), nullable=False, index=True),
    Column("external_id", Text),
    Column("name", Text, nullable=False),
    Column("geom", Geometry(srid=4326, spatial_index=True), nullable=False),
    Column("properties", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("agency", Text, ForeignKey("agencies.code"), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
    *_timestamps(),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("deleted_at", DateTime(timezone=True)),
    CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    CheckConstraint("ST_Dimension(geom) = 2", name="geom_is_areal"),
    Index("ix_areas_layer_id_geom", "layer_id", "geom", postgresql_using="gist"),
)

# One row per version of an area, written by a trigger, so deleted or edited areas can be recovered.
area_versions = Table(
    "area_versions",
    metadata,
    Column("area_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("op", Text, nullable=False),
    Column("layer_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("geom", Geometry(srid=4326, spatial_index=False), nullable=False),
    Column("properties", JSONB, nullable=False),
    Column("agency", Text, nullable=False),
    Column("changed_by", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deleted", Boolean, nullable=False),
    PrimaryKeyConstraint("area_id", "version"),
)

raster_sources = Table(
    "raster_sources",
    metadata,
    Column("id", Text, primary_key=True),
    Column("title_id", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("nodata", Float),
    Column("bounds", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("demo", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("agency", Text, ForeignKey("agencies.code")),
    Column("roles", ARRAY(Text), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("prefix", Text, nullable=False, unique=True),
    Column("key_hash", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("agency", Text, ForeignKey("agencies.code")),
    Column("roles", ARRAY(Text), nullable=False),
    Column("layer_scope", ARRAY(Text)),
    Column("asset_scope", ARRAY(Text)),  # external ids or patterns the key may report for; NULL: any
    Column("topic_scope", ARRAY(Text)),  # MQTT topic filters the key's messages may arrive on; NULL: any
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("layer_id", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("state", Text, nullable=False, server_default=text("'queued'")),
    Column("dry_run", Boolean, nullable=False),
    Column("options", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("rows_total", Integer),
    Column("rows_done", Integer, nullable=False, server_default=text("0")),
    Column("report", JSONB),
    Column("error", JSONB),
    Column("cancel_requested", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('queued', 'running', 'done', 'refused', 'failed', 'cancelled')", name="state"),
    Index("ix_import_jobs_actor_created", "actor", text("created_at DESC")),
    Index(
        "ix_import_jobs_active",
        "heartbeat_at",
        postgresql_where=text("state IN ('queued', 'running')"),
    ),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("target_id", Text),
    Column("layer_id", Text),
    Column("before", JSONB),
    Column("after", JSONB),
    Index("ix_audit_log_target", "target", "target_id"),
)

# The live stream's log: every event has an id a client can resume from (Last-Event-ID).
events = Table(
    "events",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("type", Text, nullable=False),
    Column("layer_id", Text),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Index("ix_events_at", "at"),
)

# Assets already announced as stale, so each goes stale once until it reports again.
stale_marks = Table(
    "stale_marks",
    metadata,
    Column("asset_id", BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column("observed_at", DateTime(timezone=True)),
    Column("since", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
