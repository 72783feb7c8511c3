"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from api.background import live_services
from api.errors import install_error_handlers
from api.limits import BodyLimit, TextGuard
from api.openapi import install_openapi
from api.routes import (
    alerts,
    auth,
    basemaps,
    collections,
    counts,
    editing,
    events,
    export,
    health,
    history,
    imports,
    ingest,
    items,
    keys,
    openapi_doc,
    rasters,
    report,
    styles,
    tiles,
    web,
)
from api.settings import ApiSettings
from ingest.import_jobs import ImportJobs
from layers.db import create_db_engine, session_factory


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the app with its own engine; settings are read once here (or given by tests) and passed down."""
    settings = settings or ApiSettings()
    engine = create_db_engine(settings.db)
    import_jobs = ImportJobs(engine, settings.imports, settings.db.data_dir / "imports")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(import_jobs.start)
        try:
            async with live_services(app, settings.live, settings.webhooks):
                yield
        finally:
            await run_in_threadpool(import_jobs.stop)
        engine.dispose()

    app = FastAPI(
        title="kendali",
        version="0.1.0",
        description="OGC API - Features, tiles and live status for city Command Centers.",
        openapi_url=None,  # /api is written per caller (api/routes/openapi_doc.py)
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings  # every group the routes need, read by their dependencies
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.import_jobs = import_jobs
    install_error_handlers(app)
    app.add_middleware(TextGuard)  # inside BodyLimit: the JSON it buffers is bounded by it
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(web.router)  # first: its `/` answers browsers only and falls through otherwise
    app.include_router(health.router)
    app.include_router(openapi_doc.router)
    app.include_router(collections.router)
    app.include_router(items.router)
    app.include_router(editing.router)
    app.include_router(imports.router)
    app.include_router(ingest.router)
    app.include_router(events.router)
    app.include_router(alerts.router)
    app.include_router(export.router)
    app.include_router(auth.router)
    app.include_router(keys.router)
    app.include_router(history.router)
    app.include_router(counts.router)
    app.include_router(report.router)
    app.include_router(rasters.router)
    app.include_router(basemaps.router)
    app.include_router(styles.router)
    app.include_router(tiles.router)
    install_openapi(app)
    return app
