"""Ingest settings: the MQTT subscriber (KENDALI_MQTT__*) and the demo simulator (KENDALI_SIMULATOR__*)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from layers.settings import DatabaseSettings


class MqttSettings(BaseModel):
    """Where the broker is, who we are to it, and how messages are batched into commits."""

    host: str = Field("127.0.0.1", min_length=1, max_length=255)
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = Field(None, max_length=200)
    password: SecretStr | None = None
    # A fixed client id keeps the broker-side session (and its unacknowledged messages) across restarts.
    client_id: str = Field("kendali-ingest", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    topic_prefix: str = Field("kendali", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    keepalive_s: int = Field(30, ge=5, le=3600)
    session_expiry_s: int = Field(7 * 86_400, ge=60, le=0xFFFFFFFF)
    batch_size: int = Field(500, ge=1, le=10_000)
    batch_ms: int = Field(200, ge=1, le=60_000)
    max_payload_bytes: int = Field(16_384, ge=256, le=1_048_576)
    reconnect_min_s: int = Field(1, ge=1, le=60)
    reconnect_max_s: int = Field(30, ge=1, le=3600)
    # The device key whose agency and layer scope every MQTT report is checked against.
    api_key: SecretStr | None = None


class SimulatorSettings(BaseModel):
    """How `kendali demo simulate` reaches the server and how hard it drives it."""

    enabled: bool = True  # `make run` starts the simulator unless this is false
    server_url: str = Field("http://127.0.0.1:8000", max_length=300)
    api_key: SecretStr | None = None
    mqtt: bool = False  # also publish sensor reports to the broker of KENDALI_MQTT__*
    seed: int = 7
    interval_s: float = Field(2.0, ge=0.1, le=600)
    speed: float = Field(60.0, ge=1, le=10_000)  # simulated seconds per real second
    max_rate: float = Field(200.0, ge=1, le=10_000)  # reports per second at most, over all paths


class IngestSettings(BaseSettings):
    """Settings of the ingestors (env prefix KENDALI_, nested with __)."""

    model_config = SettingsConfigDict(
        env_prefix="KENDALI_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    db: DatabaseSettings = Field(default_factory=DatabaseSettings)
