"""Which database and rate-limit store the suite runs on.

``XOBITO_TEST_BACKEND=sqlite`` (default) uses a SQLite file and the in-memory limiter;
``postgres`` uses a fresh PostgreSQL database per test run plus Redis. When the services are
missing the PostgreSQL run is skipped (and the run's summary says so, loudly), unless
``XOBITO_REQUIRE_SERVICES=1`` makes it fail. Services that answered when the run started and
stopped answering during it always fail the run: that is an outage, not a missing service.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass

import asyncpg
import pytest
import redis.asyncio as aioredis

PG_ADMIN_DSN = os.environ.get("XOBITO_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("XOBITO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Backend:
    name: str
    database_url: str
    redis_url: str | None
    redis_prefix: str
    pg_database: str | None = None


def backend_name() -> str:
    return os.environ.get("XOBITO_TEST_BACKEND", "sqlite")


def services_required() -> bool:
    return os.environ.get("XOBITO_REQUIRE_SERVICES") == "1"


async def _check_services() -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    await conn.close()
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    finally:
        await client.aclose()


# Whether PostgreSQL and Redis answered when the session started (postgres backend only).
_reachable_at_start: bool | None = None


def probe() -> str | None:
    """None when PostgreSQL and Redis both answer, else why not."""
    try:
        asyncio.run(_check_services())
    except Exception as exc:
        return repr(exc)
    return None


def note_start() -> None:
    global _reachable_at_start
    if backend_name() == "postgres":
        _reachable_at_start = probe() is None


def vanished() -> str | None:
    """Why the services that answered at the start no longer do (None: they still do, or
    they never did)."""
    if not _reachable_at_start:
        return None
    return probe()


def open_backend(tmp_dir: str) -> Backend:
    run = uuid.uuid4().hex[:10]
    if backend_name() != "postgres":
        return Backend("sqlite", f"sqlite+aiosqlite:///{tmp_dir}/xobito-test.db", None, run)
    reason = probe()
    if reason is not None:
        message = f"PostgreSQL/Redis not reachable: {reason}"
        if _reachable_at_start:
            pytest.exit(f"{message} (they answered when the run started)", returncode=3)
        if services_required():
            pytest.exit(message, returncode=3)
        pytest.skip(message, allow_module_level=True)
    name = f"xobito_test_{run}"
    asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return Backend("postgres", f"{base}/{name}", REDIS_URL, f"xobito-test-{run}", name)


def close_backend(backend: Backend) -> None:
    if backend.pg_database:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{backend.pg_database}" WITH (FORCE)'))


async def _admin_sql(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
