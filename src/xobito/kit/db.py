"""Engine, sessions and column types shared by every model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import DateTime, MetaData, event
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

LOST_CONNECTION = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)
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
    conn.exec_driver_sql("BEGIN")


def make_engine(
    url: str, *, pool_size: int = 20, max_overflow: int = 20, echo: bool = False
) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection per process: SQLite has a single writer, and a second connection
        # would fail with SQLITE_BUSY when its read snapshot goes stale before it writes.
        # Sessions queue for the connection instead, so code must never hold two at once.
        if ":memory:" in url:
            engine = create_async_engine(url, echo=echo, poolclass=NullPool)
        else:
            engine = create_async_engine(url, echo=echo, pool_size=1, max_overflow=0)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
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


@asynccontextmanager
async def driver_connection(session: AsyncSession) -> AsyncIterator[Any | None]:
    """PostgreSQL: the asyncpg connection for hot statements run without SQLAlchemy's
    session and statement machinery (``None`` on other databases).

    When the session is in a transaction, that transaction's own connection (statements join
    it and commit with it): a request never holds two connections, or a burst of requests
    could take the whole pool and wait for each other. Otherwise a connection from the pool
    for the block only, in no transaction: each statement commits on its own, so callers
    send single, self-contained statements.
    """
    engine = session.bind
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        yield None
        return
    if session.in_transaction():
        connection = await session.connection()
        yield (await connection.get_raw_connection()).driver_connection
        return
    fairy = await engine.raw_connection()
    release = fairy.close
    try:
        yield fairy.driver_connection
    except LOST_CONNECTION:
        release = fairy.invalidate  # a broken connection is discarded, never reused
        raise
    finally:
        await greenlet_spawn(release)
