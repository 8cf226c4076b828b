"""A request the database has no connection for is a retryable 503, not a 500 (issue 16).

A real pool, really exhausted: the test holds every connection of a small app's pool, so a
request waits its ``db_pool_timeout`` and gets none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from structlog.testing import capture_logs

from tests.factories import Factory, Tenant
from xobito.app import create_app
from xobito.config import Settings
from xobito.kit.db import dispose_engine, is_capacity_error

BUSY = {"status": "error", "message": "The server is busy. Retry the request in a few seconds."}


@asynccontextmanager
async def small_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(
        settings.model_copy(
            update={"db_pool_size": 2, "db_max_overflow": 0, "db_pool_timeout": 0.3}
        )
    )
    try:
        yield app
    finally:
        await dispose_engine(app.state.engine)


@asynccontextmanager
async def every_connection_taken(app: FastAPI) -> AsyncIterator[None]:
    engine = app.state.engine
    async with AsyncExitStack() as stack:
        for _ in range(engine.pool.size()):
            await stack.enter_async_context(engine.connect())
        yield


def client_of(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_no_free_connection_answers_503_with_retry_after(
    settings: Settings, factory: Factory
) -> None:
    a: Tenant = await factory.tenant()
    await factory.contact(a)
    async with small_app(settings) as app, client_of(app) as client:
        with capture_logs() as logs:
            async with every_connection_taken(app):
                busy = await client.get(a.url("/contacts"), headers=a.headers)
        assert busy.status_code == 503
        assert busy.json() == BUSY
        assert busy.headers["Retry-After"] == "2"
        events = [e["event"] for e in logs]
        assert "server_busy" in events and "unexpected_failure" not in events
        # The connections are back: the same request is answered.
        ok = await client.get(a.url("/contacts"), headers=a.headers)
        assert ok.status_code == 200 and ok.json()["data"]["total"] == 1


async def test_a_busy_keyed_send_leaves_its_key_usable(
    settings: Settings, factory: Factory
) -> None:
    a: Tenant = await factory.tenant(enforce_care_window=False)
    body = {"phone_number": "+14155550123", "message_body": "Hello"}
    headers = a.headers | {"Idempotency-Key": "busy-once"}
    async with small_app(settings) as app, client_of(app) as client:
        async with every_connection_taken(app):
            busy = await client.post(a.url("/messages/send"), json=body, headers=headers)
        assert busy.status_code == 503 and busy.json() == BUSY
        retried = await client.post(a.url("/messages/send"), json=body, headers=headers)
        assert retried.status_code == 200, retried.text
        assert retried.headers.get("Idempotent-Replayed") is None  # really sent, once


def wrapped(inner: BaseException) -> BaseException:
    """As SQLAlchemy raises a driver's error: a DBAPIError whose ``orig`` caused it."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise sa_exc.OperationalError("connect", {}, exc) from exc
    except sa_exc.OperationalError as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "capacity"),
    [
        (sa_exc.TimeoutError("QueuePool limit of size 2 overflow 0 reached"), True),
        (wrapped(asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients")), True),
        (
            wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting")),
            True,
        ),
        (wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_capacity_errors_are_told_from_others(error: BaseException, capacity: bool) -> None:
    assert is_capacity_error(error) is capacity
