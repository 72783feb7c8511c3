"""Direct PostGIS access for QGIS: the `qgis` schema, the read-only group role and row-level security.

The per-layer views, the per-agency roles and their row policies follow the catalog, so
`layers.qgis.views.sync_views` (run after every catalog sync) creates them; this migration lays the
scaffolding they stand on:

- schema `qgis`, and the NOLOGIN group role `kendali_ro` that every agency role is a member of;
- row-level security on `layers`, `assets`, `areas` and `asset_status`. Members of `kendali_ro` see
  only rows their agency's policies allow; every other role keeps seeing everything through the
  `kendali_app` policies. The table owner and superusers bypass RLS anyway (no FORCE), so kendali's
  own connections are untouched: the embedded cluster's `kendali` user is a superuser.

Roles are cluster-wide and shared by every database of the cluster, so the downgrade revokes what
this database granted and leaves the roles in place.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

_TABLES = ("layers", "assets", "areas", "asset_status")
_READABLE = ("agencies", "layers", "assets", "areas", "asset_status")
_NOT_READER = "((SELECT NOT pg_has_role(current_user, 'kendali_ro', 'MEMBER')))"


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS qgis")
    op.execute(
        """
        DO $$
        BEGIN
            CREATE ROLE kendali_ro NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$
        """
    )
    op.execute("COMMENT ON SCHEMA qgis IS 'kendali: one view per layer for QGIS; rows filtered by RLS'")
    op.execute("REVOKE ALL ON SCHEMA qgis FROM PUBLIC")
    op.execute("GRANT USAGE ON SCHEMA qgis TO kendali_ro")
    for table in _READABLE:
        op.execute(f"GRANT SELECT ON {table} TO kendali_ro")  # noqa: S608 - fixed names from this file
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY kendali_app ON {table} USING {_NOT_READER} WITH CHECK {_NOT_READER}"  # noqa: S608
        )
    # A status row is visible exactly when its asset is: the subquery runs under the assets policies.
    op.execute(
        "CREATE POLICY kendali_ro_status ON asset_status FOR SELECT TO kendali_ro "
        "USING (EXISTS (SELECT 1 FROM assets a WHERE a.id = asset_status.asset_id))"
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS qgis CASCADE")
    op.execute(
        """
        DO $$
        DECLARE
            p record;
        BEGIN
            FOR p IN SELECT policyname, tablename FROM pg_policies
                     WHERE schemaname = 'public' AND left(policyname, 8) = 'kendali_'
            LOOP
                EXECUTE 'DROP POLICY ' || quote_ident(p.policyname)
                    || ' ON public.' || quote_ident(p.tablename);
            END LOOP;
        END
        $$
        """
    )
    for table in _TABLES:
        op.execute(f"ALTER TABLE IF EXISTS {table} DISABLE ROW LEVEL SECURITY")
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kendali_ro') THEN
                REVOKE SELECT ON agencies, layers, assets, areas, asset_status FROM kendali_ro;
            END IF;
        END
        $$
        """
    )
