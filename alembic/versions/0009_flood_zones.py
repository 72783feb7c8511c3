"""Flood-zone cache: zone sets keyed by a hash of their inputs, and their classed polygons.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE flood_zone_sets (
            key text CONSTRAINT pk_flood_zone_sets PRIMARY KEY,
            inputs jsonb NOT NULL,
            zone_count integer NOT NULL,
            computed_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_flood_zone_sets_computed_at ON flood_zone_sets (computed_at)")
    op.execute(
        """
        CREATE TABLE flood_zones (
            set_key text NOT NULL
                CONSTRAINT fk_flood_zones_set_key REFERENCES flood_zone_sets (key) ON DELETE CASCADE,
            zone_no integer NOT NULL,
            depth_class smallint NOT NULL,
            hazard_class smallint NOT NULL,
            station_code text NOT NULL,
            station_name text NOT NULL,
            river_code text NOT NULL,
            stage_cm double precision NOT NULL,
            max_depth_m double precision NOT NULL,
            area_ha double precision NOT NULL,
            geom geometry(MultiPolygon, 4326) NOT NULL,
            CONSTRAINT pk_flood_zones PRIMARY KEY (set_key, zone_no),
            CONSTRAINT ck_flood_zones_depth_class CHECK (depth_class BETWEEN 1 AND 3),
            CONSTRAINT ck_flood_zones_hazard_class CHECK (hazard_class BETWEEN 0 AND 3)
        )
        """
    )
    op.execute("CREATE INDEX ix_flood_zones_set_key_geom ON flood_zones USING gist (set_key, geom)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS flood_zones")
    op.execute("DROP TABLE IF EXISTS flood_zone_sets")
