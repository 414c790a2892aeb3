"""Builds the FastAPI app; models load in the lifespan, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from engine import __version__
from engine.api import errors
from engine.api.limits import BodyLimitMiddleware
from engine.api.log_redaction import install_redaction
from engine.api.metrics import Metrics
from engine.api.routes import articles, feedback, health, triage
from engine.bootstrap import ensure_ready
from engine.service import TriageService
from engine.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def start() -> TriageService:
            service = TriageService.create(settings, on_batch=app.state.metrics.observe_batch)
            try:
                ensure_ready(service.pipeline.registry)
                service.warm_up()
            except BaseException:
                service.close()
                raise
            return service

        service = await run_in_threadpool(start)
        app.state.service = service
        log.info("sift ready on data dir %s", settings.data_dir)
        yield
        app.state.service = None
        service.close()

    app = FastAPI(
        title="Sift",
        version=__version__,
        description="Triage and self-service knowledge for helpdesks: language, sentiment, urgency, topic, "
        "entities, PII, KB articles, drafted replies and routing with handoff reasons.",
        lifespan=lifespan,
    )
    app.state.service = None
    app.state.metrics = Metrics()
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    errors.install(app)
    app.include_router(triage.router)
    app.include_router(articles.router)
    app.include_router(feedback.router)
    app.include_router(health.router)
    return app
