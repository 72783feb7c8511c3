"""Poller configuration: a TOML file of [[poller]] tables, checked against the layer catalog on load.

```toml
[[poller]]
name = "simak-status"            # also the `source` of every report it writes
kind = "http_json"
layer = "city_apps"
url = "https://simak.example/api/status"
interval_s = 60
timeout_s = 5
[poller.mapping]
items = "data.apps"              # dotted path to the list of items ("" = the document itself)
external_id = "code"
status = "state"
status_map = { ok = "up", error = "down" }
value = "latency_ms"
observed_at = "checked_at"

[[poller]]
name = "app-health"
kind = "app_health"              # GET each city app's health_url: up/down and response time (ms)

[[poller]]
name = "camera-probe"
kind = "camera_probe"            # RTSP OPTIONS (rtsp://) or HTTP GET (http/https) of each camera's URL
concurrency = 20
```
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from layers.catalog import LAYERS
from layers.settings import DatabaseSettings

MiB = 1024 * 1024
NAME = r"^[a-z0-9][a-z0-9_.\-]{0,63}$"
PATH = r"^(\$|\$\.)?[A-Za-z0-9_\-.]{0,200}$"
ENV_NAME = r"^[A-Z_][A-Z0-9_]{0,99}$"


class PollerSettings(BaseSettings):
    """Where the pollers file is, the default API key they report with, and the database."""

    model_config = SettingsConfigDict(
        env_prefix="KENDALI_POLLERS_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    file: Path | None = None  # KENDALI_POLLERS_FILE
    api_key: SecretStr | None = None  # KENDALI_POLLERS_API_KEY, for pollers that name no api_key_env
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)


class PollerConfigError(ValueError):
    """The pollers file is missing, not TOML, or describes pollers that cannot run."""


class JsonMapping(BaseModel):
    """How items of a JSON document become status reports (paths are dotted: `data.items.0.id`)."""

    model_config = ConfigDict(extra="forbid")

    items: str = Field("", pattern=PATH)
    external_id: str = Field(pattern=PATH, min_length=1)
    status: str | None = Field(None, pattern=PATH)
    status_map: dict[str, str] = Field(default_factory=dict, max_length=1000)
    value: str | None = Field(None, pattern=PATH)
    # Status from the value when the document carries none: [[0, "lancar"], [300, "padat"], [600, "macet"]].
    value_thresholds: list[tuple[float, str]] = Field(default_factory=list, max_length=100)
    observed_at: str | None = Field(None, pattern=PATH)

    @model_validator(mode="after")
    def _status_source(self) -> JsonMapping:
        if self.status is None and not self.value_thresholds:
            raise ValueError("mapping needs a status path or value_thresholds")
        if self.value_thresholds and self.value is None:
            raise ValueError("value_thresholds need a value path")
        return self


class _Poller(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME)
    layer: str
    interval_s: float = Field(60.0, ge=0.1, le=86_400)
    timeout_s: float = Field(10.0, gt=0, le=300)
    backoff_max_s: float = Field(600.0, gt=0, le=86_400)
    api_key_env: str | None = Field(None, pattern=ENV_NAME)
    enabled: bool = True

    def statuses(self) -> tuple[str, ...]:
        """Return the status vocabulary of the poller's layer."""
        status = LAYERS[self.layer].status
        return () if status is None else status.values

    @model_validator(mode="after")
    def _layer_has_status(self) -> _Poller:
        layer = LAYERS.get(self.layer)
        if layer is None or layer.status is None:
            raise ValueError(f"layer {self.layer!r} does not exist or carries no live status")
        return self


class HttpJsonPoller(_Poller):
    """GET a JSON document and map its items onto assets of a layer by external id."""

    kind: Literal["http_json"]
    url: AnyHttpUrl
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    headers_env: dict[str, str] = Field(
        default_factory=dict, max_length=20
    )  # header -> env var with its value
    max_bytes: int = Field(10 * MiB, ge=1024, le=200 * MiB)
    mapping: JsonMapping

    @model_validator(mode="after")
    def _statuses_known(self) -> HttpJsonPoller:
        named = set(self.mapping.status_map.values()) | {s for _, s in self.mapping.value_thresholds}
        unknown = sorted(named - set(self.statuses()))
        if unknown:
            raise ValueError(f"statuses {unknown} are not in layer {self.layer!r}: {list(self.statuses())}")
        return self


class _AssetProbe(_Poller):
    url_property: str
    match: str = Field("*", min_length=1, max_length=100)  # glob on external ids: which assets to probe
    concurrency: int = Field(20, ge=1, le=500)

    @model_validator(mode="after")
    def _property_declared(self) -> _AssetProbe:
        if self.url_property not in LAYERS[self.layer].properties.model_fields:
            raise ValueError(f"layer {self.layer!r} has no property {self.url_property!r}")
        return self


class AppHealthPoller(_AssetProbe):
    """GET each application's health URL: up (status < 400) or down, with the response time in ms."""

    kind: Literal["app_health"]
    layer: str = "city_apps"
    url_property: str = "health_url"
    up_down: tuple[str, str] = ("up", "down")


class CameraProbePoller(_AssetProbe):
    """Check each camera answers: RTSP OPTIONS for rtsp:// URLs, HTTP GET for http(s) snapshot URLs."""

    kind: Literal["camera_probe"]
    layer: str = "cctv"
    url_property: str = "stream_url"
    up_down: tuple[str, str] = ("online", "offline")


PollerConfig = Annotated[HttpJsonPoller | AppHealthPoller | CameraProbePoller, Field(discriminator="kind")]


class PollersFile(BaseModel):
    """The whole file: a list of [[poller]] tables with unique names."""

    model_config = ConfigDict(extra="forbid")

    poller: list[PollerConfig] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _unique_names(self) -> PollersFile:
        names = [p.name for p in self.poller]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"poller names must be unique: {repeated}")
        return self


def load_pollers(path: Path) -> list[PollerConfig]:
    """Read and check a pollers file; return the enabled pollers or raise PollerConfigError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PollerConfigError(f"cannot read pollers file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PollerConfigError(f"pollers file {path} is not valid TOML: {exc}") from None
    try:
        parsed = PollersFile.model_validate(data)
    except ValidationError as exc:
        raise PollerConfigError(f"pollers file {path}: {exc}") from None
    for poller in parsed.poller:
        if isinstance(poller, AppHealthPoller | CameraProbePoller):
            _check_up_down(poller)
    return [p for p in parsed.poller if p.enabled]


def _check_up_down(poller: AppHealthPoller | CameraProbePoller) -> None:
    missing = [s for s in poller.up_down if s not in poller.statuses()]
    if missing:
        raise PollerConfigError(f"poller {poller.name}: statuses {missing} are not in layer {poller.layer!r}")


def api_key_for(poller: PollerConfig, settings: PollerSettings) -> str:
    """Return the API key a poller reports with: its own api_key_env, else KENDALI_POLLERS_API_KEY."""
    if poller.api_key_env:
        key = os.environ.get(poller.api_key_env, "")
        if not key:
            raise PollerConfigError(
                f"poller {poller.name}: environment variable {poller.api_key_env} is empty"
            )
        return key
    if settings.api_key is None:
        raise PollerConfigError(f"poller {poller.name}: set KENDALI_POLLERS_API_KEY or api_key_env")
    return settings.api_key.get_secret_value()


def header_values(poller: HttpJsonPoller) -> dict[str, str]:
    """Return the request headers of a JSON poller, secret ones read from the environment."""
    headers = dict(poller.headers)
    for header, env in poller.headers_env.items():
        value = os.environ.get(env)
        if value is None:
            raise PollerConfigError(f"poller {poller.name}: environment variable {env} is not set")
        headers[header] = value
    return headers
