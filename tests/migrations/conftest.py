"""Migrations applied to databases that already hold data: a scratch database per test
(a SQLite file, or a PostgreSQL database of its own), migrated to a revision, filled with
plain SQL as that revision's schema allows, then upgraded.

The tests are synchronous: Alembic runs its own event loop (``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.backends import PG_ADMIN_DSN, Backend, _admin_sql
from xobito.kit.db import make_engine


@pytest.fixture
def scratch_url(backend: Backend, tmp_path: Path) -> Iterator[str]:
    if backend.name != "postgres":
        yield f"sqlite+aiosqlite:///{tmp_path}/scratch.db"
        return
    name = f"xobito_scratch_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sql(url: str, statement: str, **params: Any) -> Sequence[Any]:
    """Run one statement in its own transaction; the rows it returned, if any."""

    async def run() -> Sequence[Any]:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def scalar(url: str, statement: Any, params: dict[str, Any]) -> int:
    """One statement's single integer (a count), on a connection of its own."""

    async def run() -> int:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(statement, params)).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def workspace(url: str, subdomain: str) -> int:
    (row,) = sql(
        url,
        "INSERT INTO workspaces (subdomain, name, rate_limit_max, rate_limit_decay,"
        " enforce_care_window, whatsapp_provider, created_at, updated_at)"
        " VALUES (:s, 'Test', 60, 60, true, 'sandbox', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        " RETURNING id",
        s=subdomain,
    )
    return int(row[0])
