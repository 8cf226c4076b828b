"""Which database and rate-limit store the suite runs on.

``XOBITO_TEST_BACKEND=sqlite`` (default) uses a SQLite file and the in-memory limiter;
``postgres`` uses a fresh PostgreSQL database per test run plus Redis. When the services are
missing the PostgreSQL run is skipped, unless ``XOBITO_REQUIRE_SERVICES=1`` makes it fail.
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


def open_backend(tmp_dir: str) -> Backend:
    run = uuid.uuid4().hex[:10]
    if backend_name() != "postgres":
        return Backend("sqlite", f"sqlite+aiosqlite:///{tmp_dir}/xobito-test.db", None, run)
    try:
        asyncio.run(_check_services())
    except Exception as exc:
        message = f"PostgreSQL/Redis not reachable: {exc!r}"
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
