"""The ASGI application: routers, error mapping, and the per-process resources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig

from xobito import __version__
from xobito.account.router import router as users_router
from xobito.api.handlers import LastResort
from xobito.api.handlers import install as install_handlers
from xobito.apidocs.router import router as apidocs_router
from xobito.auth.dependencies import Authenticator
from xobito.auth.router import router as tokens_router
from xobito.campaign import runtime as campaign_runtime
from xobito.campaign.engine import CampaignEngine
from xobito.campaign.router import router as campaigns_router
from xobito.chat.router import router as chats_router
from xobito.config import Settings, get_settings
from xobito.connection.router import router as whatsapp_router
from xobito.contact.router import router as contacts_router
from xobito.health.router import router as health_router
from xobito.idempotency.service import IdempotencyService
from xobito.inbound.repository import InboxWriter
from xobito.inbound.router import router as inbound_router
from xobito.inbound.signing import WebhookSigners
from xobito.inbound.traffic import TrafficRecorder
from xobito.jobs.handlers import give_up_handlers, job_handlers, process_inbox
from xobito.jobs.worker import Worker
from xobito.kit.access_log import AccessLogMiddleware
from xobito.kit.db import (
    dispose_engine,
    driver_connections,
    make_engine,
    make_read_sessionmaker,
    make_sessionmaker,
)
from xobito.kit.gc import tune_gc
from xobito.kit.logging import configure_logging
from xobito.kit.metrics import MetricsMiddleware
from xobito.kit.pagination import public_url_warning
from xobito.kit.query import CleanQueryMiddleware
from xobito.kit.ratelimit import RateLimiter
from xobito.kit.responses import JSONResponse
from xobito.kit.ttl_cache import configure_shared_caches
from xobito.label.router import routers as label_routers
from xobito.live.bus import BUS
from xobito.message.router import router as messages_router
from xobito.phone.router import router as phone_router
from xobito.sandbox.router import router as sandbox_router
from xobito.template.admin_router import router as template_sync_router
from xobito.template.router import router as templates_router
from xobito.web.app import create_web_app
from xobito.web.assets import PREFIX as STATIC_PREFIX
from xobito.web.assets import StaticAssets
from xobito.web.events import close_live, end_streams_on_exit
from xobito.webhook.dispatcher import Dispatcher
from xobito.webhook.forward_router import router as meta_forwards_router
from xobito.webhook.router import router as webhooks_router
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.cloud import CloudProvider
from xobito.whatsapp.sandbox import SandboxProvider
from xobito.workspace.router import router as workspaces_router

DESCRIPTION = """Xobito REST API v1 (WhatsApp Business messaging), plus the operator's admin API.

Every `/api/v1/{subdomain}` request needs `Authorization: Bearer apitk_...`."""


log = structlog.get_logger("xobito.app")

TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def make_providers(settings: Settings) -> dict[str, WhatsAppProvider]:
    """One instance of each provider per process (the cloud one owns the HTTP pool)."""
    return {"sandbox": SandboxProvider(), "cloud": CloudProvider(settings.graph_base_url)}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    configure_shared_caches(settings.auth_cache_seconds)
    if settings.env != "testing":
        tune_gc()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warning := public_url_warning(settings):
            log.warning("public_url_unset", message=warning)
        BUS.configure(settings.redis_url, settings.redis_prefix)
        await BUS.start()
        end_streams_on_exit(app)
        task = campaigns = None
        if settings.worker_in_process:
            task = asyncio.create_task(app.state.worker.run(), name="xobito-worker")
            stop_campaigns = asyncio.Event()
            campaigns = asyncio.create_task(app.state.campaigns.run(stop_campaigns))
        try:
            yield
        finally:
            if task is not None:
                app.state.worker.stop()
                await task
            if campaigns is not None:
                stop_campaigns.set()
                await campaigns
            for provider in app.state.campaign_providers.values():
                await provider.close()
            await app.state.pacer.close()
            if task is None:
                await app.state.dispatcher.close()
            await app.state.webhook_traffic.close()
            for provider in app.state.providers.values():
                await provider.close()
            await app.state.idempotency.close()
            await close_live(app)
            await BUS.stop()
            await dispose_engine(app.state.engine)

    app = FastAPI(
        title="Xobito",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by apidocs from the package's files, not from a CDN
        redoc_url=None,
        default_response_class=JSONResponse,
        telemetry=None if settings.otel else TELEMETRY_OFF,
    )
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        echo=settings.db_echo,
    )
    if engine.dialect.name == "postgresql":
        # The hot path's own connections come out of the pool: leave at least half to sessions.
        driver_connections(engine, min(settings.db_hot_connections, settings.db_pool_size // 2))
    limiter = RateLimiter(settings.redis_url, settings.redis_prefix, settings.redis_max_connections)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.read_sessionmaker = make_read_sessionmaker(engine)
    app.state.limiter = limiter
    app.state.webhook_signers = WebhookSigners(app.state.read_sessionmaker)
    app.state.inbox_writer = InboxWriter(engine)
    app.state.webhook_traffic = TrafficRecorder(app.state.sessionmaker)
    app.state.authenticator = Authenticator(settings, limiter)
    app.state.idempotency = IdempotencyService(app.state.sessionmaker, settings)
    app.state.providers = make_providers(settings)
    app.state.dispatcher = Dispatcher(app.state.sessionmaker, settings)
    app.state.worker = Worker(
        app.state.sessionmaker,
        job_handlers(app.state.providers),
        process_inbox,
        dispatcher=app.state.dispatcher,
        settings=settings,
        give_up_handlers=give_up_handlers(),
    )
    app.state.wake_worker = app.state.worker.wake
    app.state.pacer = campaign_runtime.make_pacer(settings)
    app.state.campaign_providers = campaign_runtime.campaign_providers(settings)
    app.state.campaigns = CampaignEngine(
        app.state.sessionmaker, app.state.campaign_providers, settings, pacer=app.state.pacer
    )

    v1 = APIRouter(prefix="/api/v1/{subdomain}")
    # Routes are matched in order, twice per request (FastAPI matches, then re-matches the
    # chosen router): the busiest paths (sends, contacts) go first.
    for router in (
        messages_router,
        contacts_router,
        *label_routers,
        templates_router,
        phone_router,
        chats_router,
        campaigns_router,
    ):
        v1.include_router(router)
    admin = APIRouter(prefix="/api/admin")
    for router in (
        workspaces_router,
        tokens_router,
        whatsapp_router,
        template_sync_router,
        sandbox_router,
        webhooks_router,
        meta_forwards_router,
        users_router,
    ):
        admin.include_router(router)
    app.include_router(inbound_router)

    app.include_router(v1)
    app.include_router(admin)
    app.include_router(health_router)
    app.include_router(apidocs_router)
    # The dashboard is its own sub-application (own middleware and error pages); /static
    # serves hashed, immutable URLs of the package's own files (API docs' bundles, the
    # dashboard's).
    app.mount("/app", create_web_app(app), name="web")
    app.mount(STATIC_PREFIX, StaticAssets(), name="static")
    install_handlers(app)
    app.add_middleware(CleanQueryMiddleware)
    app.add_middleware(MetricsMiddleware)
    if settings.access_log and settings.log_level.upper() in ("DEBUG", "INFO"):
        app.add_middleware(AccessLogMiddleware)  # its lines are info: no cost above that
    app.add_middleware(LastResort)  # outermost: added last
    return app
