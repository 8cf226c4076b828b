"""SDK fixtures: ``xobito_client`` clients bound to the real application.

``sdk(tenant, **options)`` makes an :class:`~xobito_client.AsyncClient` that talks to the
session's app in-process (``httpx.ASGITransport``); unless a test passes its own ``sleep``, the
client records the delays it would wait (``client.sleeps``) instead of waiting. ``server`` is
one real uvicorn process on the test database (for the sync client and the aiohttp backend).
``Scripted`` wraps a transport to inject 503s, connection errors and lost responses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.factories import Tenant
from tests.message.conftest import cloud, fake_graph, fake_graph_server, messaging
from tests.servers import Server, running_server
from xobito_client import AsyncClient

__all__ = ["cloud", "fake_graph", "fake_graph_server", "messaging"]

BASE_URL = "http://testserver"


class Sleeps:
    """An injectable ``sleep`` that records each delay and runs ``then`` instead of waiting."""

    def __init__(self, then: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.calls: list[float] = []
        self.then = then

    async def __call__(self, delay: float) -> None:
        self.calls.append(delay)
        if self.then is not None:
            await self.then()


@dataclass
class Sent:
    """One request as the wrapped transport saw it, and what became of it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    outcome: str  # "passed", "503", "connect-error", "lost-response"
    status: int | None = None


@dataclass
class Scripted(httpx.AsyncBaseTransport):
    """Wraps a transport; the first requests meet ``script`` steps, later ones pass through.

    Steps: ``"503"`` answers 503 without reaching the app; ``"connect-error"`` raises
    ``httpx.ConnectError`` without reaching it; ``"lose-response"`` lets the app do the work,
    then drops its answer and raises ``httpx.ReadError`` (a connection lost mid-response).
    """

    inner: httpx.AsyncBaseTransport
    script: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        step = self.script.pop(0) if self.script else "pass"
        body = await request.aread()
        record = Sent(request.method, request.url.path, dict(request.headers), body, step)
        self.sent.append(record)
        if step == "503":
            record.status = 503
            return httpx.Response(503, json={"status": "error", "message": "Unavailable"})
        if step == "connect-error":
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        record.status = response.status_code
        if step == "lose-response":
            raise httpx.ReadError("connection reset while reading the response", request=request)
        record.outcome = "passed"
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class SdkClient(AsyncClient):
    """An ``AsyncClient`` that also exposes the ``Sleeps`` it was given."""

    sleeps: Sleeps


MakeClient = Callable[..., SdkClient]


@pytest.fixture
def asgi(app: FastAPI) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


@pytest.fixture
async def sdk(app: FastAPI) -> AsyncIterator[MakeClient]:
    made: list[SdkClient] = []

    def make(
        tenant: Tenant | None = None,
        *,
        subdomain: str | None = None,
        token: str | None = None,
        **options: Any,
    ) -> SdkClient:
        options.setdefault("transport", httpx.ASGITransport(app=app, raise_app_exceptions=False))
        sleeps = options.setdefault("sleep", Sleeps())
        client = SdkClient(
            BASE_URL,
            subdomain or (tenant.workspace.subdomain if tenant else "nowhere"),
            token or (tenant.token if tenant else "apitk_missing"),
            **options,
        )
        client.sleeps = sleeps if isinstance(sleeps, Sleeps) else Sleeps()
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture(scope="session")
def server(backend: Backend) -> Iterator[Server]:
    """One real API process on the test database (no auth cache: ids repeat across tests)."""
    with running_server(backend, ADMIN_KEY, {"XOBITO_AUTH_CACHE_SECONDS": "0"}) as s:
        yield s
