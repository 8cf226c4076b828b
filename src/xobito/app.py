"""The ASGI application: routers, error mapping, and the per-process resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from xobito import __version__
from xobito.api.handlers import install as install_handlers
from xobito.auth.dependencies import Authenticator
from xobito.auth.router import router as tokens_router
from xobito.config import Settings, get_settings
from xobito.contact.router import router as contacts_router
from xobito.health.router import router as health_router
from xobito.idempotency.service import IdempotencyService
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.kit.logging import configure_logging
from xobito.kit.metrics import MetricsMiddleware
from xobito.kit.ratelimit import RateLimiter
from xobito.kit.responses import JSONResponse
from xobito.label.router import routers as label_routers
from xobito.workspace.router import router as workspaces_router

DESCRIPTION = """Xobito REST API v1 (WhatsApp Business messaging), plus the operator's admin API.

Every `/api/v1/{subdomain}` request needs `Authorization: Bearer apitk_...`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.engine.dispose()

    app = FastAPI(
        title="Xobito",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JSONResponse,
    )
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        echo=settings.db_echo,
    )
    limiter = RateLimiter(settings.redis_url, settings.redis_prefix)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.limiter = limiter
    app.state.authenticator = Authenticator(settings, limiter)
    app.state.idempotency = IdempotencyService(app.state.sessionmaker, settings)

    v1 = APIRouter(prefix="/api/v1/{subdomain}")
    v1.include_router(contacts_router)
    for router in label_routers:
        v1.include_router(router)
    admin = APIRouter(prefix="/api/admin")
    admin.include_router(workspaces_router)
    admin.include_router(tokens_router)

    app.include_router(v1)
    app.include_router(admin)
    app.include_router(health_router)
    install_handlers(app)
    app.add_middleware(MetricsMiddleware)
    return app
