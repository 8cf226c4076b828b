"""``DriverConnections``: the send path's connections, borrowed from the pool and lent on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.backends import Backend
from xobito.kit.db import DriverConnections, make_engine

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("driver connections exist on PostgreSQL only")


@pytest.fixture
async def engine(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(backend.database_url, pool_size=3, max_overflow=0)
    yield engine
    await engine.dispose()


async def pid(lent: DriverConnections) -> int:
    async with lent.connection() as driver:
        return int(await driver.fetchval("SELECT pg_backend_pid()"))


async def test_lends_at_most_size_and_reuses_them(engine: AsyncEngine) -> None:
    lent = DriverConnections(engine, 2)
    seen: set[int] = set()
    busy = 0
    most = 0

    async def statement() -> None:
        nonlocal busy, most
        async with lent.connection() as driver:
            busy += 1
            most = max(most, busy)
            seen.add(await driver.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.001)"))
            busy -= 1

    await asyncio.gather(*(statement() for _ in range(20)))
    assert most == 2 and len(seen) == 2
    assert await pid(lent) in seen  # idle ones are lent again
    await lent.close()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_refused_statement_keeps_the_connection(engine: AsyncEngine) -> None:
    lent = DriverConnections(engine, 1)
    before = await pid(lent)
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with lent.connection() as driver:
            await driver.fetchval("SELECT 1 / 0")
    assert await pid(lent) == before
    await lent.close()


async def test_a_terminated_connection_is_replaced(engine: AsyncEngine) -> None:
    lent = DriverConnections(engine, 1)
    before = await pid(lent)
    with pytest.raises(asyncpg.PostgresError):
        async with lent.connection() as driver:
            await driver.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert await pid(lent) != before
    await lent.close()


async def test_an_interrupted_statement_discards_the_connection_and_wakes_a_waiter(
    engine: AsyncEngine,
) -> None:
    lent = DriverConnections(engine, 1)
    before = await pid(lent)
    started = asyncio.Event()

    async def slow() -> None:
        async with lent.connection() as driver:
            started.set()
            await driver.fetchval("SELECT pg_sleep(30)")

    task = asyncio.ensure_future(slow())
    await started.wait()
    waiter = asyncio.ensure_future(pid(lent))  # waits: the only connection is lent
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await waiter  # served by a newly borrowed connection
    assert after != before
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]  # the old one went
    await lent.close()

