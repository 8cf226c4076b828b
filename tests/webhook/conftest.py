"""Outbound webhook fixtures: a real HTTP receiver and helpers that drive the dispatcher.

``receiver`` is an aiohttp server on 127.0.0.1 (one per test session, reset per test) that
records every request (headers, exact body bytes, arrival time) and answers as told:
``receiver.respond("/hook", 500, 500, then=200)``, a ``Retry-After`` header, a delay, a gate
that holds a request until another path has been hit, or a global hold (crash tests).

``hooks`` creates endpoints through the admin API and delivers with
``await hooks.deliver()`` (the app's dispatcher, ``run_once`` until nothing more is due now).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Tenant
from xobito.config import Settings
from xobito.kit.time import utcnow
from xobito.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookLog
from xobito.webhook.dispatcher import Dispatcher

MakeDispatcher = Callable[..., Dispatcher]
WAIT_LIMIT = 10.0  # seconds any gate or hold may keep a request before giving up


@dataclass
class Hit:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    answered_at: float | None = None
    released_by_gate: bool | None = None

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["X-Webhook-Id"]


@dataclass
class Plan:
    statuses: list[int] = field(default_factory=list)  # answered in order, then ``then``
    then: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    gate: str | None = None  # hold until a request to this path has arrived
    body: bytes = b'{"ok":true}'


class Receiver:
    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.plans: dict[str, Plan] = {}
        self.arrived: dict[str, asyncio.Event] = {}
        self.hold_after: int | None = None
        self.released = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def respond(
        self,
        path: str,
        *statuses: int,
        then: int = 200,
        retry_after: str | None = None,
        delay: float = 0.0,
        gate: str | None = None,
        body: bytes = b'{"ok":true}',
    ) -> None:
        self.plans[path] = Plan(list(statuses), then, retry_after, delay, gate, body)

    def hold(self, after: int) -> None:
        """Requests past the first ``after`` wait (unanswered) until ``release()``."""
        self.hold_after = after

    def release(self) -> None:
        self.hold_after = None
        self.released.set()

    def reset(self) -> None:
        self.release()  # let any waiting handler of the previous test finish
        self.hits = []
        self.plans = {}
        self.arrived = {}
        self.released = asyncio.Event()

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def event_ids(self) -> set[str]:
        return {h.event_id for h in self.hits}

    def _arrival(self, path: str) -> asyncio.Event:
        return self.arrived.setdefault(path, asyncio.Event())

    async def _handle(self, request: web.Request) -> web.Response:
        hit = Hit(request.path, dict(request.headers), await request.read(), time.monotonic())
        self.hits.append(hit)
        self._arrival(request.path).set()
        released = self.released
        if self.hold_after is not None and len(self.hits) > self.hold_after:
            await asyncio.wait_for(released.wait(), WAIT_LIMIT)
        plan = self.plans.get(request.path, Plan())
        if plan.gate is not None:
            try:
                await asyncio.wait_for(self._arrival(plan.gate).wait(), WAIT_LIMIT)
                hit.released_by_gate = True
            except TimeoutError:
                hit.released_by_gate = False
        if plan.delay:
            # The receiver being slow is the behaviour under test; reset() cuts it short.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(released.wait(), plan.delay)
        status = plan.statuses.pop(0) if plan.statuses else plan.then
        headers = {"Retry-After": plan.retry_after} if plan.retry_after else {}
        hit.answered_at = time.monotonic()
        return web.Response(status=status, body=plan.body, headers=headers)

    async def wait_for(self, count: int, limit: float = 60.0, poll: float = 0.02) -> None:
        """Bounded polling until ``count`` requests arrived (subprocess tests)."""
        deadline = time.monotonic() + limit
        while len(self.hits) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"receiver got {len(self.hits)} of {count} requests")
            await asyncio.sleep(poll)

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture(scope="session", autouse=True)
async def _close_dispatcher(app: FastAPI) -> AsyncIterator[None]:
    """The app's dispatcher owns an HTTP client session: close it before the loop ends."""
    yield
    await app.state.dispatcher.close()


class FakeClock:
    """An injectable clock for ``Dispatcher``: moves only when told. It starts a few seconds
    ahead of the real clock, so events emitted (at the real time) just after are due."""

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=5)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def make_dispatcher(app: FastAPI, settings: Settings) -> AsyncIterator[MakeDispatcher]:
    """``make_dispatcher(clock, **setting_overrides)``: a Dispatcher on the app's database."""
    made: list[Dispatcher] = []

    def make(clock: FakeClock | None = None, **overrides: Any) -> Dispatcher:
        d = Dispatcher(
            app.state.sessionmaker,
            settings.model_copy(update=overrides),
            clock=clock or FakeClock(),
        )
        made.append(d)
        return d

    yield make
    for d in made:
        await d.close()


@pytest.fixture(scope="session")
async def receiver_server() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.reset()
    return receiver_server


class Hooks:
    """Endpoints through the admin API, deliveries through the app's dispatcher."""

    _paths = itertools.count(1)

    def __init__(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        session: AsyncSession,
        admin: dict[str, str],
        receiver: Receiver,
    ) -> None:
        self.app = app
        self.client = client
        self.session = session
        self.admin = admin
        self.receiver = receiver

    def base(self, tenant: Tenant) -> str:
        return f"/api/admin/workspaces/{tenant.workspace.subdomain}"

    async def endpoint(
        self,
        tenant: Tenant,
        path: str | None = None,
        *,
        events: list[str] | None = None,
        enabled: bool | None = None,
        url: str | None = None,
    ) -> dict[str, Any]:
        """A new endpoint (by default at a fresh receiver path); returns the created record."""
        body: dict[str, Any] = {"url": url or self.receiver.url(path or self.path())}
        if events is not None:
            body["events"] = events
        if enabled is not None:
            body["enabled"] = enabled
        r = await self.client.post(f"{self.base(tenant)}/webhooks", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        record: dict[str, Any] = r.json()["data"]
        return record

    def path(self) -> str:
        return f"/hook{next(self._paths)}"

    async def deliver(self, rounds: int = 50) -> int:
        """Send everything due now (the worker is not running in tests)."""
        total = 0
        for _ in range(rounds):
            started = await self.app.state.dispatcher.run_once()
            total += started
            if not started:
                break
        return total

    async def count(self, model: Any, *where: Any) -> int:
        await self.session.rollback()  # a fresh snapshot
        return int(await self.session.scalar(select(func.count()).select_from(model).where(*where)))

    async def events(self) -> list[WebhookEvent]:
        await self.session.rollback()
        return list(await self.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))

    async def deliveries(self) -> list[WebhookDelivery]:
        await self.session.rollback()
        rows = await self.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return list(rows)

    async def logs(self) -> list[WebhookLog]:
        await self.session.rollback()
        return list(await self.session.scalars(select(WebhookLog).order_by(WebhookLog.id)))

    async def endpoint_row(self, endpoint_id: int) -> WebhookEndpoint:
        await self.session.rollback()
        row = await self.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
        assert row is not None
        return row


@pytest.fixture
def hooks(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    receiver: Receiver,
) -> Hooks:
    return Hooks(app, client, session, admin_headers, receiver)
