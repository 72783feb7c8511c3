"""The app's settings: how the API listens and every settings group it passes down (KENDALI_*).

`create_app` builds `ApiSettings` once and hands each group to its users (app.state, dependencies, the
background tasks); nothing below reads the environment on its own. Each nested group keeps its own
variables (`KENDALI_DB_*`, `KENDALI_BASEMAPS_*`, `KENDALI_IMPORT_*`, `KENDALI_WEBHOOKS_*`, and the
flat `KENDALI_STALE_CHECK_S` …), and also answers to the nested form (`KENDALI_WEBHOOKS__ALLOW_PRIVATE`).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from basemaps.settings import BasemapSettings
from ingest.importer import ImportSettings
from ingest.webhooks import WebhookSettings
from layers.settings import DatabaseSettings


class LiveSettings(BaseSettings):
    """How often the background checks run and how much the live stream holds (KENDALI_*)."""

    model_config = SettingsConfigDict(env_prefix="KENDALI_", env_file=".env", extra="ignore")

    stale_check_s: float = Field(30.0, ge=0.5, le=3_600)
    alert_check_s: float = Field(5.0, ge=0.5, le=3_600)
    partition_check_s: float = Field(86_400.0, ge=60, le=7 * 86_400)
    sse_queue: int = Field(1_000, ge=10, le=100_000)  # messages held per slow client before it is dropped
    sse_max_clients: int = Field(1_000, ge=1, le=100_000)  # per worker process


class ApiSettings(BaseSettings):
    """How the API listens and what it allows, with the settings of every part the app runs."""

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
    live: LiveSettings = Field(default_factory=LiveSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
