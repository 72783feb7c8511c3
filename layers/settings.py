"""Database settings: DATABASE_URL (or KENDALI_DB_URL), pool and timeouts, the embedded cluster's home."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Where the database is and how kendali talks to it."""

    model_config = SettingsConfigDict(
        env_prefix="KENDALI_DB_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
        populate_by_name=True,
    )

    url: PostgresDsn | None = Field(None, validation_alias=AliasChoices("DATABASE_URL", "KENDALI_DB_URL"))
    pool_size: int = Field(5, ge=1, le=100)
    max_overflow: int = Field(5, ge=0, le=100)
    statement_timeout_ms: int = Field(15_000, ge=100, le=3_600_000)
    # The embedded local PostGIS used when no URL is given.
    data_dir: Path = Field(
        Path(".kendali"), validation_alias=AliasChoices("KENDALI_DATA_DIR", "KENDALI_DB_DATA_DIR")
    )
    pg_bindir: Path | None = None
    database: str = "kendali"

    def sqlalchemy_url(self) -> str:
        """Return the URL in SQLAlchemy's psycopg 3 form; raise if none is set."""
        if self.url is None:
            raise RuntimeError("DATABASE_URL is not set and the local cluster was not started")
        return to_sqlalchemy_url(str(self.url))


def to_sqlalchemy_url(url: str) -> str:
    """Rewrite a postgres:// or postgresql:// URL to postgresql+psycopg://."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        return f"postgresql+psycopg{sep}{rest}"
    return url
