"""`kendali demo simulate`: keep the demo map alive through the real paths (HTTP push, and MQTT if set up).

It reads the assets through the feature API with its key, steps the simulated city (ingest/simulator_world.py)
on a fast clock, and sends what changed or is due, at a bounded rate: sensors (rivers, bins, tapping
boxes) over MQTT when a broker is configured, everything else (or everything) to `POST /ingest/status`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import paho.mqtt.client as paho
import typer
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Connection

from ingest.mqtt_messages import topic_for
from ingest.settings import IngestSettings, MqttSettings
from ingest.simulator_world import SIMULATED, SimAsset, SimReport, World
from layers.access.auth import authenticate_key, create_key
from layers.catalog import LAYERS

log = logging.getLogger(__name__)

# All from the catalog: the live layers the simulated city drives, those whose assets are field sensors
# (over MQTT when it is set up), and the owning agencies' operator roles, which may read and report them.
LIVE_LAYERS = tuple(SIMULATED)
SENSOR_LAYERS = frozenset(layer_id for layer_id, behaviour in SIMULATED.items() if behaviour.sensor)
SIMULATOR_ROLES = tuple(dict.fromkeys(f"{LAYERS[layer_id].owner}-operator" for layer_id in LIVE_LAYERS))
HTTP_BATCH = 1000
PAGE = 1000
MAX_ASSETS_PER_LAYER = 20_000
MIN_GAP_REAL_S = 5.0  # an unchanged asset reports at most this often, in real seconds


@dataclass
class Tally:
    """What the simulator sent and what the server said."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0
    published: int = 0
    ticks: int = 0

    def line(self) -> str:
        """Return a one-line summary."""
        return (
            f"{self.ticks} steps: {self.accepted} accepted, {self.duplicate} duplicate, {self.rejected} "
            f"rejected, {self.failed} not delivered over HTTP; {self.published} published over MQTT"
        )


@dataclass(frozen=True, slots=True)
class SimulateOptions:
    """One run of the simulator."""

    server_url: str
    api_key: str
    layers: Sequence[str] = LIVE_LAYERS
    seed: int = 7
    interval_s: float = 2.0
    speed: float = 60.0
    duration_s: float = 0.0  # 0: until stopped
    max_rate: float = 200.0
    mqtt: MqttSettings | None = None
    start: datetime | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


def simulator_key(conn: Connection, key_file: Path) -> str:
    """Return the simulator's key for `make run`: the one kept in `key_file` if still valid, else a new one.

    The key may read and report every live layer; the file is readable by its owner only.
    """
    if key_file.exists():
        secret = key_file.read_text(encoding="utf-8").strip()
        if authenticate_key(conn, secret) is not None:
            return secret
    secret = create_key(conn, "demo-simulator", SIMULATOR_ROLES).secret
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret)
    return secret


def _pages(http: httpx.Client, layer_id: str) -> Iterator[dict[str, Any]]:
    url: str | None = f"/collections/{layer_id}/items"
    params: dict[str, Any] | None = {"limit": PAGE}
    seen = 0
    while url and seen < MAX_ASSETS_PER_LAYER:
        response = http.get(url, params=params)
        response.raise_for_status()
        page = response.json()
        yield from page.get("features", [])
        seen += len(page.get("features", []))
        url = next((link["href"] for link in page.get("links", []) if link.get("rel") == "next"), None)
        params = None  # the next link carries them


def fetch_assets(http: httpx.Client, layer_ids: Sequence[str]) -> list[SimAsset]:
    """Return the assets of these layers that the key may see, read through the feature API."""
    assets: list[SimAsset] = []
    for layer_id in layer_ids:
        for feature in _pages(http, layer_id):
            props = feature.get("properties") or {}
            assets.append(SimAsset(int(feature["id"]), layer_id, str(props.get("external_id", "")), props))
    return assets


def _wait_for_assets(http: httpx.Client, layer_ids: Sequence[str], stop: threading.Event) -> list[SimAsset]:
    """Fetch the assets, waiting up to a minute for a server that is still starting."""
    delay, deadline = 0.5, time.monotonic() + 60
    while True:
        try:
            return fetch_assets(http, layer_ids)
        except httpx.TransportError:
            if time.monotonic() > deadline or stop.is_set():
                raise
            log.info("waiting for the server at %s", http.base_url)
        stop.wait(delay)
        delay = min(delay * 2, 5.0)


def _report_json(report: SimReport, observed_at: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "asset_id": report.asset.asset_id,
        "status": report.status,
        "observed_at": observed_at.isoformat(),
        "details": dict(report.details),
    }
    if report.value is not None:
        body["value"] = report.value
    return body


class HttpSink:
    """Sends reports to `POST /ingest/status` in batches; returns those the server answered for."""

    def __init__(self, http: httpx.Client, tally: Tally) -> None:
        self.http, self.tally = http, tally

    def send(self, reports: Sequence[SimReport], observed_at: datetime) -> list[SimReport]:
        """Send reports; return the ones delivered (accepted, duplicate or rejected)."""
        delivered: list[SimReport] = []
        for start in range(0, len(reports), HTTP_BATCH):
            chunk = reports[start : start + HTTP_BATCH]
            body = {"reports": [_report_json(r, observed_at) for r in chunk]}
            try:
                response = self.http.post("/ingest/status", json=body)
            except httpx.TransportError as exc:
                log.warning("server unreachable: %s", exc)
                self.tally.failed += len(chunk)
                continue
            if response.status_code in (401, 403):
                raise PermissionError(f"the server refused the key ({response.status_code})")
            if response.status_code != 200:
                log.warning("server answered %s to a batch", response.status_code)
                self.tally.failed += len(chunk)
                continue
            outcomes = [r.get("outcome") for r in response.json().get("results", [])]
            self.tally.accepted += outcomes.count("accepted")
            self.tally.duplicate += outcomes.count("duplicate")
            self.tally.rejected += outcomes.count("rejected")
            delivered.extend(chunk)
        return delivered


class MqttSink:
    """Publishes sensor reports with QoS 1 to `{prefix}/{layer}/{external_id}/status`."""

    def __init__(self, settings: MqttSettings, tally: Tally, seed: int) -> None:
        self.prefix, self.tally = settings.topic_prefix, tally
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"kendali-simulator-{seed}", protocol=paho.MQTTv5
        )
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else None
            self.client.username_pw_set(settings.username, password)
        self.client.max_queued_messages_set(10_000)  # bounded while the broker is away
        self.client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)
        self.client.connect_async(settings.host, settings.port, keepalive=settings.keepalive_s)
        self.client.loop_start()

    def send(self, reports: Sequence[SimReport], observed_at: datetime) -> list[SimReport]:
        """Publish reports; return the ones handed to the client."""
        sent: list[SimReport] = []
        for report in reports:
            body = _report_json(report, observed_at)
            del body["asset_id"]
            topic = topic_for(self.prefix, report.asset.layer_id, report.asset.external_id)
            info = self.client.publish(topic, json.dumps(body), qos=1)
            if info.rc in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):  # queued until reconnected
                sent.append(report)
        self.tally.published += len(sent)
        return sent

    def close(self) -> None:
        """Disconnect from the broker."""
        self.client.disconnect()
        self.client.loop_stop()


def _step(world: World, options: SimulateOptions, http: HttpSink, mqtt: MqttSink | None) -> None:
    budget = max(1, math.floor(options.max_rate * options.interval_s))
    reports = world.step(options.interval_s * options.speed)[:budget]
    observed_at = datetime.now(UTC)
    over_mqtt = [r for r in reports if mqtt is not None and r.asset.layer_id in SENSOR_LAYERS]
    over_http = [r for r in reports if mqtt is None or r.asset.layer_id not in SENSOR_LAYERS]
    sent = http.send(over_http, observed_at)
    if mqtt is not None:
        sent += mqtt.send(over_mqtt, observed_at)
    world.sent(sent)


def simulate(options: SimulateOptions, stop: threading.Event | None = None) -> Tally:
    """Run the simulator until `duration_s` has passed or `stop` is set; return what was sent."""
    stop = stop or threading.Event()
    tally = Tally()
    headers = {"Authorization": f"Bearer {options.api_key}"} | options.extra_headers
    with httpx.Client(base_url=options.server_url, headers=headers, timeout=30) as http:
        assets = _wait_for_assets(http, options.layers, stop)
        log.info("simulating %d assets of %s", len(assets), ", ".join(options.layers))
        world = World(
            assets, options.seed, options.start or datetime.now(UTC), MIN_GAP_REAL_S * options.speed
        )
        mqtt = MqttSink(options.mqtt, tally, options.seed) if options.mqtt else None
        sink = HttpSink(http, tally)
        began = time.monotonic()
        try:
            while not stop.is_set():
                _step(world, options, sink, mqtt)
                tally.ticks += 1
                if tally.ticks % 30 == 0:
                    log.info("%s", tally.line())
                next_at = began + tally.ticks * options.interval_s
                if options.duration_s and next_at - began >= options.duration_s:
                    break
                stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            if mqtt is not None:
                mqtt.close()
    return tally


def options_from_settings(settings: IngestSettings, server_url: str, api_key: str) -> SimulateOptions:
    """Return the simulator's options as configured (KENDALI_SIMULATOR__*, KENDALI_MQTT__*)."""
    sim = settings.simulator
    return SimulateOptions(
        server_url=server_url,
        api_key=api_key,
        seed=sim.seed,
        interval_s=sim.interval_s,
        speed=sim.speed,
        max_rate=sim.max_rate,
        mqtt=settings.mqtt if sim.mqtt else None,
    )


def start_simulator(options: SimulateOptions) -> threading.Thread:
    """Run the simulator in a daemon thread beside the server (`make run`); failures are only logged."""

    def run() -> None:
        try:
            simulate(options)
        except Exception:
            log.exception("the demo simulator stopped")

    thread = threading.Thread(target=run, name="demo-simulator", daemon=True)
    thread.start()
    return thread


def simulate_command(
    duration: Annotated[
        float, typer.Option(min=0, max=30 * 86_400, help="Seconds to run; 0: until Ctrl-C.")
    ] = 0,
    interval: Annotated[float | None, typer.Option(min=0.1, max=600, help="Seconds between steps.")] = None,
    speed: Annotated[
        float | None, typer.Option(min=1, max=10_000, help="Simulated seconds per second.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed; the same seed gives the same city.")] = None,
    server: Annotated[str | None, typer.Option(help="Server URL (KENDALI_SIMULATOR__SERVER_URL).")] = None,
    layer: Annotated[list[str] | None, typer.Option("--layer", help="Only these layers; repeat.")] = None,
    mqtt: Annotated[bool | None, typer.Option(help="Also publish sensors to the MQTT broker.")] = None,
    max_rate: Annotated[
        float | None, typer.Option(min=1, max=10_000, help="Reports per second at most.")
    ] = None,
) -> None:
    """Drive live status for the demo city through HTTP push (and MQTT); key: KENDALI_SIMULATOR__API_KEY."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = IngestSettings()
    sim = settings.simulator
    if sim.api_key is None or not sim.api_key.get_secret_value():
        typer.echo("kendali: set KENDALI_SIMULATOR__API_KEY (kendali key create ... --role ...)", err=True)
        raise typer.Exit(2)
    unknown = sorted(set(layer or ()) - set(LIVE_LAYERS))
    if unknown:
        typer.echo(f"kendali: not a live layer: {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    configured = options_from_settings(settings, server or sim.server_url, sim.api_key.get_secret_value())
    options = replace(
        configured,
        layers=tuple(layer or LIVE_LAYERS),
        seed=configured.seed if seed is None else seed,
        interval_s=interval or configured.interval_s,
        speed=speed or configured.speed,
        duration_s=duration,
        max_rate=max_rate or configured.max_rate,
        mqtt=settings.mqtt if (sim.mqtt if mqtt is None else mqtt) else None,
    )
    try:
        tally = simulate(options)
    except KeyboardInterrupt:
        return
    except (PermissionError, httpx.HTTPError) as exc:
        typer.echo(f"kendali: the server at {options.server_url} cannot be used: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(tally.line())


def main() -> None:
    """Entry point of `python -m ingest.simulator`."""
    typer.run(simulate_command)


if __name__ == "__main__":
    main()
