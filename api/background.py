"""Work an API worker does besides answering requests: the live event hub, staleness checks, alert
evaluation, webhook delivery and observation partitions made ahead of time.

`live_services` runs them for the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from sqlalchemy import Engine

from api.events import EventHub
from api.settings import LiveSettings
from ingest.webhooks import WebhookSettings, deliver_due
from layers.alerts.evaluate import run_evaluation
from layers.live.partitions import ensure_observation_partitions
from layers.live.staleness import check_staleness

log = logging.getLogger(__name__)


@asynccontextmanager
async def live_services(app: FastAPI, settings: LiveSettings, hooks: WebhookSettings) -> AsyncIterator[None]:
    """Run the event hub and the periodic checks while the app serves; stop them at shutdown."""
    engine: Engine = app.state.engine
    hub = EventHub(engine, queue_size=settings.sse_queue, max_clients=settings.sse_max_clients)
    hub.start()
    app.state.event_hub = hub
    tasks = [
        asyncio.create_task(run_checks(engine, settings)),
        asyncio.create_task(run_alerts(engine, settings, hooks)),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await hub.stop()


async def run_checks(engine: Engine, settings: LiveSettings) -> None:
    """Check staleness every `stale_check_s` and make partitions every `partition_check_s`, forever.

    The first round waits one interval: migrations already made the partitions, and a short-lived app
    (a test client) then never writes anything on its own.
    """
    partitions_due = 0.0
    while True:
        await asyncio.sleep(settings.stale_check_s)
        if time.monotonic() >= partitions_due:
            if await _attempt("partition upkeep", _partitions, engine):
                partitions_due = time.monotonic() + settings.partition_check_s
        await _attempt("staleness check", _staleness, engine)


async def run_alerts(engine: Engine, settings: LiveSettings, hooks: WebhookSettings) -> None:
    """Evaluate alert rules and post due webhook deliveries every `alert_check_s`, forever.

    Time-based rules (offline for more than 10 minutes) and areas drawn or closed take effect here.
    """
    while True:
        await asyncio.sleep(settings.alert_check_s)
        await _attempt("alert evaluation", run_evaluation, engine)
        await _attempt("webhook delivery", partial(deliver_due, settings=hooks), engine)


async def _attempt(what: str, job: Callable[[Engine], object], engine: Engine) -> bool:
    """Run a blocking job in a thread; a failure (the database is down) is logged and retried later."""
    try:
        await asyncio.to_thread(job, engine)
    except Exception:  # the loop must survive database outages
        log.warning("%s failed; retrying later", what, exc_info=True)
        return False
    return True


def _staleness(engine: Engine) -> None:
    with engine.begin() as conn:
        found = check_staleness(conn)
    if found:
        log.info("announced stale assets: %s", {k: len(v) for k, v in found.items()})


def _partitions(engine: Engine) -> None:
    with engine.begin() as conn:
        ensure_observation_partitions(conn)
