"""HTTP server settings (KENDALI_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from basemaps.settings import BasemapSettings
from layers.settings import DatabaseSettings


class ApiSettings(BaseSettings):
    """How the API listens and what it allows."""

    model_config = SettingsConfigDict(
        env_prefix="KENDALI_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    public_url: str | None = None  # as clients see it, when behind a proxy
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    default_lang: str = Field("id", pattern="^(id|en)$")
    city_name: str = "Kota Ambon"
    timezone: str = "Asia/Jayapura"
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
    basemaps: BasemapSettings = Field(default_factory=BasemapSettings)
