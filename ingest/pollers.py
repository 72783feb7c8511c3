"""Pollers: status pulled from HTTP JSON sources, app health checks and camera probes, on schedules.

Every target (a JSON source, an app, a camera) has its own schedule: probed every `interval_s`, and after
failures every interval x 2^failures up to `backoff_max_s`. Probes run as separate asyncio tasks under a
per-poller concurrency limit and each is bounded by its timeout, so a slow or failing target never holds
up another. Every report, probed or mapped from a feed, is read by layers.live.report_input (the one
reader of reports, with its limits); one writer stores them through layers.alerts.evaluate.write_and_evaluate
as the poller's API key (its agency and layer scope apply) with `source` = the poller's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ingest import poll_probes
from ingest.poll_mapping import map_document
from ingest.poller_config import (
    AppHealthPoller,
    HttpJsonPoller,
    PollerConfig,
    PollerConfigError,
    PollerSettings,
    api_key_for,
    header_values,
    load_pollers,
)
from layers.access.auth import authenticate_key
from layers.access.policy import Action, allows
from layers.alerts.evaluate import write_and_evaluate
from layers.catalog import LAYERS
from layers.db import create_db_engine
from layers.live.poll_targets import ProbeTarget, probe_targets
from layers.live.report_input import BadReport, read_report
from layers.live.status import StatusReport

log = logging.getLogger(__name__)

WRITE_BATCH = 1000
TARGET_REFRESH_S = 60.0
MAX_TICK_S = 0.5
QUEUE_MAX = 50_000
DB_RETRY_MAX_S = 60.0


def backoff_delay(interval_s: float, failures: int, cap_s: float) -> float:
    """Return the wait before the next probe: the interval, doubled for each failure in a row, capped."""
    if failures <= 0:
        return interval_s
    return min(interval_s * 2.0 ** min(failures, 30), max(cap_s, interval_s))


@dataclass(slots=True)
class _Schedule:
    failures: int = 0
    next_due: float = 0.0
    busy: bool = False


@dataclass(frozen=True, slots=True)
class _Outcome:
    ok: bool
    reports: list[StatusReport] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Source:
    """The one 'target' of a JSON poller: its URL."""

    url: str
    external_id: str = "*"


Target = ProbeTarget | _Source


class PollerRunner:
    """Runs a set of pollers until told to stop; one writer stores what they find."""

    def __init__(self, pollers: Sequence[PollerConfig], engine: Engine, keys: dict[str, str]) -> None:
        self.pollers = list(pollers)
        self.engine = engine
        self.keys = keys  # poller name -> API key secret
        self.queue: asyncio.Queue[tuple[str, StatusReport]] = asyncio.Queue(QUEUE_MAX)
        self.client = httpx.AsyncClient(follow_redirects=False, trust_env=False, verify=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set, then store what is still queued."""
        writer = asyncio.create_task(self._writer(stop))
        tasks = [asyncio.create_task(self._poll(p, stop), name=p.name) for p in self.pollers]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            stop.set()
            await writer
            await self.client.aclose()

    # --- scheduling ------------------------------------------------------------------------------------

    async def _targets(self, poller: PollerConfig) -> list[Target] | None:
        if isinstance(poller, HttpJsonPoller):
            return [_Source(str(poller.url))]
        layer = LAYERS[poller.layer]

        def load() -> list[ProbeTarget]:
            with self.engine.connect() as conn:
                return probe_targets(conn, layer, poller.url_property, poller.match)

        try:
            return list(await asyncio.to_thread(load))
        except Exception:  # the database may be away; keep the targets known so far
            log.warning("poller %s: cannot load targets", poller.name, exc_info=True)
            return None

    async def _poll(self, poller: PollerConfig, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(getattr(poller, "concurrency", 1))
        schedules: dict[str, _Schedule] = {}
        running: set[asyncio.Task[None]] = set()
        targets: list[Target] = []
        reload_at = 0.0
        tick = max(0.02, min(poller.interval_s / 4, MAX_TICK_S))
        try:
            while not stop.is_set():
                now = loop.time()
                if now >= reload_at:
                    targets = await self._targets(poller) or targets
                    known = {t.external_id for t in targets}
                    schedules = {k: s for k, s in schedules.items() if k in known or s.busy}
                    reload_at = now + max(poller.interval_s, TARGET_REFRESH_S)
                for target in targets:
                    schedule = schedules.setdefault(target.external_id, _Schedule())
                    if not schedule.busy and schedule.next_due <= now:
                        schedule.busy = True
                        task = asyncio.create_task(self._probe(poller, target, schedule, limit))
                        running.add(task)
                        task.add_done_callback(running.discard)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), tick)
        finally:
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _probe(
        self, poller: PollerConfig, target: Target, schedule: _Schedule, limit: asyncio.Semaphore
    ) -> None:
        loop = asyncio.get_running_loop()
        async with limit:
            started = loop.time()
            try:
                outcome = await self._observe(poller, target)
            except Exception:
                log.exception("poller %s: probe of %s failed", poller.name, target.external_id)
                outcome = _Outcome(False)
            for report in outcome.reports:
                await self.queue.put((poller.name, report))
            schedule.failures = 0 if outcome.ok else schedule.failures + 1
            delay = backoff_delay(poller.interval_s, schedule.failures, poller.backoff_max_s)
            schedule.next_due = started + delay
            schedule.busy = False

    # --- observing -------------------------------------------------------------------------------------

    async def _observe(self, poller: PollerConfig, target: Target) -> _Outcome:
        if isinstance(poller, HttpJsonPoller):
            return await self._fetch(poller)
        assert isinstance(target, ProbeTarget)  # noqa: S101 - asset pollers only have asset targets
        if isinstance(poller, AppHealthPoller):
            probe = await poll_probes.http_probe(self.client, target.url, poller.timeout_s)
            value = probe.elapsed_ms if probe.ok else None
        else:
            probe = await poll_probes.camera_probe(self.client, target.url, poller.timeout_s)
            value = None  # cameras declare no value; the round trip goes in details
        up, down = poller.up_down
        rtt = {} if probe.elapsed_ms is None else {"rtt_ms": probe.elapsed_ms}
        item = {
            "asset_id": target.asset_id,
            "layer": poller.layer,
            "status": up if probe.ok else down,
            "value": value,
            "observed_at": datetime.now(UTC),
            "details": {**probe.details, **rtt},
        }
        read = read_report(item, source=poller.name)
        if isinstance(read, BadReport):
            log.warning("poller %s: report on %s refused: %s", poller.name, target.external_id, read.en)
            return _Outcome(probe.ok)
        return _Outcome(probe.ok, [read])

    async def _fetch(self, poller: HttpJsonPoller) -> _Outcome:
        fetched_at = datetime.now(UTC)
        try:
            document = await poll_probes.fetch_json(
                self.client, str(poller.url), header_values(poller), poller.timeout_s, poller.max_bytes
            )
        except poll_probes.FetchError as exc:
            log.warning("poller %s: %s: %s", poller.name, poller.url, exc)
            return _Outcome(False)
        reports, problems = map_document(
            document,
            poller.mapping,
            layer_id=poller.layer,
            statuses=poller.statuses(),
            source=poller.name,
            fetched_at=fetched_at,
        )
        if problems:
            log.warning("poller %s: %d items not mapped, e.g. %s", poller.name, len(problems), problems[0])
        return _Outcome(True, reports)

    # --- writing ---------------------------------------------------------------------------------------

    async def _writer(self, stop: asyncio.Event) -> None:
        while not (stop.is_set() and self.queue.empty()):
            try:
                first = await asyncio.wait_for(self.queue.get(), MAX_TICK_S)
            except TimeoutError:
                continue
            batch: dict[str, list[StatusReport]] = {first[0]: [first[1]]}
            for _ in range(WRITE_BATCH - 1):
                if self.queue.empty():
                    break
                name, report = self.queue.get_nowait()
                batch.setdefault(name, []).append(report)
            for name, reports in batch.items():
                await asyncio.to_thread(self._write, name, reports)

    def _write(self, poller_name: str, reports: list[StatusReport]) -> None:
        """Store one poller's reports as its key, in one transaction; failures are logged, not raised."""
        try:
            with self.engine.begin() as conn:
                principal = authenticate_key(conn, self.keys[poller_name])
                if principal is None:
                    log.error("poller %s: its API key is not valid (revoked?)", poller_name)
                    return
                results = write_and_evaluate(conn, principal, reports)
        except Exception:
            log.warning("poller %s: %d reports not stored", poller_name, len(reports), exc_info=True)
            return
        refused = Counter(r.reason for r in results if r.outcome == "rejected")
        for reason, count in refused.items():
            log.warning("poller %s: %d reports rejected: %s", poller_name, count, reason)


def _check_keys(pollers: Sequence[PollerConfig], engine: Engine, settings: PollerSettings) -> dict[str, str]:
    """Return each poller's key after checking it is valid and may report on the poller's layer."""
    keys: dict[str, str] = {}
    with engine.begin() as conn:
        for poller in pollers:
            secret = api_key_for(poller, settings)
            principal = authenticate_key(conn, secret)
            if principal is None:
                raise PollerConfigError(f"poller {poller.name}: the API key is not valid")
            if not allows(principal, Action.REPORT, LAYERS[poller.layer]):
                raise PollerConfigError(
                    f"poller {poller.name}: the API key may not report on {poller.layer!r}"
                )
            keys[poller.name] = secret
    return keys


async def serve_pollers(settings: PollerSettings, stop: asyncio.Event) -> None:
    """Load the pollers file and poll until `stop` is set."""
    if settings.file is None:
        raise PollerConfigError("no pollers file: set KENDALI_POLLERS_FILE")
    if settings.db.url is None:
        raise PollerConfigError("no database: set DATABASE_URL")
    pollers = load_pollers(settings.file)
    engine = create_db_engine(settings.db)
    try:
        keys = await _keys_when_ready(pollers, engine, settings, stop)
        if keys is not None:
            log.info("polling: %s", ", ".join(f"{p.name} ({p.kind})" for p in pollers))
            await PollerRunner(pollers, engine, keys).run(stop)
    finally:
        engine.dispose()


async def _keys_when_ready(
    pollers: Sequence[PollerConfig], engine: Engine, settings: PollerSettings, stop: asyncio.Event
) -> dict[str, str] | None:
    """Check the keys, waiting (with backoff) for the database to come up; None if stopped first."""
    delay = 1.0
    while not stop.is_set():
        try:
            return await asyncio.to_thread(_check_keys, pollers, engine, settings)
        except DBAPIError as exc:
            log.warning("database not reachable (%s); retrying in %.0f s", type(exc.orig).__name__, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, DB_RETRY_MAX_S)
    return None


async def _serve_until_signalled(settings: PollerSettings, duration_s: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if duration_s is not None:
        loop.call_later(duration_s, stop.set)
    await serve_pollers(settings, stop)


def run_pollers(settings: PollerSettings | None = None, duration_s: float | None = None) -> None:
    """Run the configured pollers until SIGINT/SIGTERM (or for `duration_s` seconds)."""
    asyncio.run(_serve_until_signalled(settings or PollerSettings(), duration_s))


def main() -> None:
    """Entry point of `python -m ingest.pollers`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run_pollers()
    except PollerConfigError as exc:
        log.error("%s", exc)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
