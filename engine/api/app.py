"""Builds the FastAPI app; models load on a thread its lifespan starts, never at import."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from engine import __version__
from engine.api import errors
from engine.api.auth import Authenticator
from engine.api.cors import SuggestCorsMiddleware
from engine.api.limits import BodyLimitMiddleware
from engine.api.log_redaction import install_redaction
from engine.api.metrics import Metrics
from engine.api.routes import articles, feedback, health, reports, tickets, triage, widget_api
from engine.api.session import SessionSigner
from engine.bootstrap import ensure_ready
from engine.errors import NotReady
from engine.service import TriageService
from engine.settings import DEFAULT_TENANT, Settings, get_settings
from engine.store.keys import KeyStore
from engine.store.rate_limits import RateLimits
from engine.store.widget_events import WidgetEventStore
from engine.web import console, widget
from engine.web.templating import static_files

log = logging.getLogger(__name__)


RETRY_AFTER_SECONDS = 5


class Starting:
    """What a starting service is doing, for the 503s it answers meanwhile; ``failed`` once start-up gave up."""

    def __init__(self) -> None:
        self.step = "starting"
        self.failed: str | None = None

    def not_ready(self) -> NotReady:
        if self.failed is not None:
            return NotReady(f"the service failed to start: {self.failed}")
        return NotReady(f"the service is starting: {self.step}", RETRY_AFTER_SECONDS)


def create_app(
    settings: Settings | None = None,
    on_start_failure: Callable[[], None] | None = None,
    accept_while_loading: bool = True,
) -> FastAPI:
    """The app; its port answers at once while models load on a thread (``/healthz`` 200, the rest 503 with
    Retry-After and what is being done), so load balancers and users see a starting service, not a dead port.

    ``on_start_failure`` is called when loading fails (``sift serve`` stops the server: a replica that cannot
    start should be restarted, not left answering 503). ``accept_while_loading`` False holds the server's start-up
    until the models are loaded: one of several workers on a shared port then takes no connection before it can
    answer it, so the others serve meanwhile (a rolling restart answers no 503).
    """
    settings = settings or get_settings()
    if settings.tenant != DEFAULT_TENANT:
        raise ValueError(f"the server serves every tenant: unset tenant (it is {settings.tenant!r}) to start it")
    install_redaction()
    starting = Starting()

    def start(app: FastAPI) -> None:
        services: dict[str, TriageService] = {}
        try:
            metrics: Metrics = app.state.metrics
            lock = threading.Lock()
            for tenant in settings.tenant_names():
                where = "" if tenant == DEFAULT_TENANT else f" of tenant {tenant}"
                starting.step = f"opening the ticket log and the models{where}"
                shared = services[DEFAULT_TENANT].pipeline.registry if services else None
                scoped = settings.for_tenant(tenant)
                if tenant != DEFAULT_TENANT and "article_url_template" not in settings.tenants[tenant]:
                    log.warning(
                        "tenant %s sets no article_url_template: its drafts cite articles under the default "
                        "tenant's (%s)", tenant, settings.article_url_template,
                    )
                service = TriageService.create(
                    scoped, on_batch=metrics.observe_batch, on_recovery=metrics.recovery_observer(tenant),
                    registry=shared.for_tenant(scoped) if shared else None, models_lock=lock,
                )
                services[tenant] = service
                starting.step = f"preparing the data directory{where} (KB index, default heads)"
                ensure_ready(service.pipeline.registry)
                starting.step = f"loading and warming up the models{where}"
                service.warm_up()
            for service in services.values():
                service.start_recovery()
        except Exception as exc:  # noqa: BLE001 - reported to every caller and the log, then the hook decides
            log.exception("sift failed to start")
            starting.failed = f"{type(exc).__name__}: {exc}"
            for service in services.values():
                service.close()
            if on_start_failure is not None:
                on_start_failure()
            return
        app.state.widget_events = {tenant: WidgetEventStore(s.settings.database) for tenant, s in services.items()}
        app.state.services = services
        app.state.service = services[DEFAULT_TENANT]
        log.info("sift ready on data dir %s (tenants: %s)", settings.data_dir, ", ".join(services))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.auth.open:
            log.warning(
                "no API keys exist: the API answers anyone who reaches %s:%s (create one with `sift keys create`)",
                settings.host, settings.port,
            )
        loader = threading.Thread(target=start, args=(app,), name="sift-start", daemon=True)
        loader.start()
        if not accept_while_loading:
            await asyncio.to_thread(loader.join)
        try:
            yield
        finally:
            loader.join()
            services, app.state.services, app.state.service = app.state.services, {}, None
            for service in services.values():
                service.close()
            for events in app.state.widget_events.values():
                events.close()
            app.state.auth.close()

    app = FastAPI(
        title="Sift",
        version=__version__,
        description="Triage and self-service knowledge for helpdesks: language, sentiment, urgency, topic, "
        "entities, PII, KB articles, drafted replies and routing with handoff reasons.",
        lifespan=lifespan,
    )
    app.state.service = None  # the default tenant's, for operators' scripts and tests
    app.state.services = {}
    app.state.widget_events = {}
    app.state.starting = starting
    app.state.metrics = Metrics()
    app.state.auth = Authenticator(
        KeyStore(settings.keys_database), settings.rate_limit_per_minute, SessionSigner(settings.data_dir),
        RateLimits(settings.keys_database),
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SuggestCorsMiddleware)
    errors.install(app)
    app.include_router(triage.router)
    app.include_router(tickets.router)
    app.include_router(articles.router)
    app.include_router(feedback.router)
    app.include_router(health.router)
    app.include_router(reports.router)
    app.include_router(widget_api.router)
    app.include_router(widget_api.reports)
    app.include_router(widget.router)
    app.include_router(console.router)
    app.mount("/static", static_files(), name="static")
    return app


WORKER_FAILURE_ENV = "SIFT_WORKER_FAILURE_FILE"


def create_worker_app() -> FastAPI:
    """The app of one ``sift serve --workers N`` process; uvicorn imports it by name (``factory=True``).

    Settings come from the environment and ``sift.toml`` like any process's, so every worker runs the same ones.
    A worker accepts connections only once its models are loaded, so uvicorn's rolling restart (SIGHUP to
    ``sift serve``) brings new index builds and head versions to every worker with no request answered 503.
    A worker that cannot load stops them all, as a lone ``sift serve`` stops (a replica that cannot start should be
    restarted, not left half-serving): it notes the failure where ``SIFT_WORKER_FAILURE_FILE`` says, for the exit
    code, and asks uvicorn's supervising process to shut down.
    """

    def stop_all() -> None:
        marker = os.environ.get(WORKER_FAILURE_ENV)
        if marker:
            with open(marker, "a", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}\n")
        os.kill(os.getppid(), signal.SIGTERM)

    return create_app(on_start_failure=stop_all, accept_while_loading=False)

