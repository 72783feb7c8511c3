"""Apply Alembic migrations and keep the `agencies` and `layers` tables in step with the catalog."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from alembic import command
from layers.catalog.sync import sync_catalog
from layers.qgis.views import sync_views
from layers.settings import to_sqlalchemy_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    """Return an Alembic config for this project pointed at `url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", to_sqlalchemy_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    """Return the newest migration revision(s) shipped with this code, comma-separated if branched."""
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))
    return ",".join(sorted(script.get_heads()))


def upgrade(url: str, engine: Engine, revision: str = "heads") -> None:
    """Migrate the database to `revision` and sync the catalog into it."""
    command.upgrade(alembic_config(url), revision)
    with engine.begin() as conn:
        sync_catalog(conn)
        sync_views(conn)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database down to `revision` ("base" removes everything)."""
    command.downgrade(alembic_config(url), revision)
