"""Engine, sessions and column types shared by every model."""

from __future__ import annotations

import asyncio
import collections
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (it never BEGINs before a
    # SAVEPOINT, which breaks nested transactions); SQLAlchemy emits BEGIN itself below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run during a write; busy_timeout queues writers instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    driver = conn.connection.driver_connection
    if driver is not None and driver.in_transaction:
        # A COMMIT that failed (the database busy, a deferred constraint) leaves SQLite's
        # transaction open while SQLAlchemy takes it for ended: end it before the next one,
        # or every later BEGIN on this, the only, connection fails.
        conn.exec_driver_sql("ROLLBACK")
    conn.exec_driver_sql("BEGIN")


def make_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int = 20,
    pool_timeout: float = 30.0,
    echo: bool = False,
) -> AsyncEngine:
    """Statements' parameters (names, phones, emails, message bodies) are never logged or
    put in an exception's text (``hide_parameters``): a failed statement shows its SQL only."""
    if url.startswith("sqlite"):
        # One connection per process: SQLite has a single writer, and a second connection
        # would fail with SQLITE_BUSY when its read snapshot goes stale before it writes.
        # Sessions queue for the connection instead, so code must never hold two at once.
        if ":memory:" in url:
            engine = create_async_engine(url, echo=echo, hide_parameters=True, poolclass=NullPool)
        else:
            engine = create_async_engine(
                url,
                echo=echo,
                hide_parameters=True,
                pool_size=1,
                max_overflow=0,
                pool_timeout=pool_timeout,
            )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        # asyncpg's statement cache makes the hot queries a single round trip.
        connect_args={"server_settings": {"application_name": "xobito"}},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for GET requests: on PostgreSQL in autocommit, which saves the BEGIN and
    COMMIT round trips of a transaction that only reads. (SQLite has one connection and
    keeps ordinary transactions.)"""
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return make_sessionmaker(engine)


async def checkpoint(session: AsyncSession) -> None:
    """Commit the work so far and give the connection back to the pool.

    The one sanctioned intermediate commit: used before waiting on an external system (Meta)
    so that no database connection is held for the length of a network round trip. Whatever
    follows runs in a new transaction that the request boundary commits as usual.
    """
    if session.in_transaction():
        await session.commit()


class DriverConnections:
    """PostgreSQL: a few connections borrowed from the engine's pool and kept, lent to hot
    statements through a queue. A SQLAlchemy checkout and checkin cost ~38 µs of CPU, a
    queue hop under 1 µs (measured); the send path takes two per send.

    Connections are borrowed on demand up to ``size`` and stay checked out of the pool until
    ``close`` (``dispose_engine``). One that breaks, or whose statement was interrupted, is
    discarded instead of lent again.
    """

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.engine = engine
        self.size = max(1, size)
        self._idle: list[Any] = []  # idle pool fairies (``PoolProxiedConnection``)
        self._waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._borrowed = 0
        self._closed = False
        self._closing: list[Any] = []

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        fairy = await self._take()
        try:
            yield fairy.driver_connection
        except BaseException as exc:
            # A statement PostgreSQL refused leaves the connection clean (each runs alone, in
            # autocommit); anything else may leave it closed or mid-protocol.
            if not _reusable_after(exc, fairy.driver_connection):
                self._borrowed -= 1
                await greenlet_spawn(fairy.invalidate)
                self._wake_one_borrower()
                raise
            self._give_back(fairy)
            raise
        self._give_back(fairy)
        while self._closing:  # closed meanwhile: return what came back to the pool
            await greenlet_spawn(self._closing.pop().close)

    async def _take(self) -> Any:
        if self._idle:
            return self._idle.pop()
        if self._borrowed < self.size:
            self._borrowed += 1
            try:
                return await self.engine.raw_connection()
            except BaseException:
                self._borrowed -= 1
                raise
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            fairy = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over just as we were cancelled
                handed = waiter.result()
                if handed is None:
                    self._wake_one_borrower()  # pass the free slot on
                else:
                    self._give_back(handed)
            raise
        return fairy if fairy is not None else await self._take()

    def _give_back(self, fairy: Any) -> None:
        if self._closed:  # lent while closing: goes back to the pool from the caller
            self._closing.append(fairy)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(fairy)
                return
        self._idle.append(fairy)

    def _wake_one_borrower(self) -> None:
        """A discarded connection frees a slot: the next waiter borrows a new one."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        """Give the idle connections back to the pool; lent ones go back when returned."""
        self._closed = True
        idle, self._idle = self._idle, []
        self._borrowed -= len(idle)
        for fairy in idle:
            await greenlet_spawn(fairy.close)


# PostgreSQL refusing a connection for lack of room, or while it starts or stops.
_CAPACITY = (
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.CannotConnectNowError,
)


def is_capacity_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the database had no connection to give: the
    pool's wait ran out (``sqlalchemy.exc.TimeoutError``) or PostgreSQL refused one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (sa_exc.TimeoutError, *_CAPACITY)):
            return True
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            current = orig
            continue
        current = current.__cause__ or current.__context__
    return False


def _reusable_after(exc: BaseException, driver: Any) -> bool:
    if not isinstance(exc, asyncpg.PostgresError) or driver.is_closed():
        return False
    # The server's own "this connection is going away" errors (terminated, shutting down).
    gone = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)
    return not isinstance(exc, gone)


_DRIVERS: weakref.WeakKeyDictionary[Any, DriverConnections] = weakref.WeakKeyDictionary()


def driver_connections(engine: AsyncEngine, size: int = 16) -> DriverConnections:
    """The engine's ``DriverConnections`` (made on first use; ``size`` applies then)."""
    found = _DRIVERS.get(engine.sync_engine)
    if found is None:
        found = _DRIVERS[engine.sync_engine] = DriverConnections(engine, size)
    return found


async def dispose_engine(engine: AsyncEngine) -> None:
    """Give back the borrowed driver connections, then close the engine's pool."""
    found = _DRIVERS.pop(engine.sync_engine, None)
    if found is not None:
        await found.close()
    await engine.dispose()


async def driver_in_transaction(session: AsyncSession) -> Any:
    """The session's asyncpg connection, inside the session's transaction. SQLAlchemy's
    asyncpg adapter sends BEGIN lazily, with the session's first statement: a statement or
    COPY sent straight to the driver before that ran on its own and committed at once (a
    rollback then kept its rows, and other transactions saw them early)."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():  # type: ignore[union-attr]
        await connection.exec_driver_sql("SELECT 1")  # the adapter's BEGIN goes first
    return driver


@asynccontextmanager
async def driver_connection(session: AsyncSession) -> AsyncIterator[Any | None]:
    """PostgreSQL: the asyncpg connection for hot statements run without SQLAlchemy's
    session and statement machinery (``None`` on other databases).

    When the session is in a transaction, that transaction's own connection (statements join
    it and commit with it): a request never holds two connections, or a burst of requests
    could take the whole pool and wait for each other. Otherwise one of the engine's
    ``DriverConnections`` for the block only, in no transaction: each statement commits on
    its own, so callers send single, self-contained statements.
    """
    engine = session.bind
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        yield None
        return
    if session.in_transaction():
        yield await driver_in_transaction(session)
        return
    async with driver_connections(engine).connection() as driver:
        yield driver
