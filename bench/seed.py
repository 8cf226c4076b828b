"""The benchmark's databases: a fresh SQLite file or PostgreSQL database, migrated and seeded.

One workspace (``bench``) with a token holding every ability and a rate limit the benchmark
cannot reach, a status, a source and 10,000 contacts (bulk-inserted with SQLAlchemy core).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from xobito.auth.abilities import ABILITIES
from xobito.auth.service import TokenService
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.kit.migrate import upgrade
from xobito.label.service import SOURCES, STATUSES, LabelService
from xobito.models import Contact
from xobito.workspace.service import WorkspaceService

PG_ADMIN_DSN = os.environ.get(
    "XOBITO_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("XOBITO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SUBDOMAIN = "bench"
CONTACTS = 10_000
# Seeded phones are +1 2000000000.. ; POSTed ones start at +1 3000000000 (see api.py).
SEED_PHONE_BASE = 2_000_000_000
TOKEN_RATE_LIMIT = 2_000_000_000


@dataclass
class Database:
    name: str  # "sqlite" or "postgres"
    url: str
    redis_url: str | None
    redis_prefix: str
    pg_database: str | None = None


@dataclass
class Seeded:
    token: str
    status_id: int
    source_id: int


@contextmanager
def database(kind: str, tmp_dir: Path) -> Iterator[Database]:
    """A migrated, empty database of ``kind``; PostgreSQL's is dropped (and Redis keys removed)
    afterwards."""
    run = uuid.uuid4().hex[:10]
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_dir}/xobito-bench-{run}.db"
        upgrade(url)
        yield Database("sqlite", url, None, f"xobito-bench-{run}")
        return
    name = f"xobito_bench_{run}"
    asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    prefix = f"xobito-bench-{run}"
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        url = f"{base}/{name}"
        upgrade(url)
        yield Database("postgres", url, REDIS_URL, prefix, name)
    finally:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        _drop_redis_keys(prefix)


async def _admin_sql(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _drop_redis_keys(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


async def _settle(engine: AsyncEngine, url: str) -> None:
    """Planner statistics and (PostgreSQL) a vacuumed visibility map, as autovacuum would leave
    them a minute after the bulk insert: count(*) can then be an index-only scan."""
    if url.startswith("sqlite"):
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
        return
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def contact_rows(workspace_id: int, status_id: int, source_id: int) -> list[dict[str, object]]:
    types = ("lead", "customer")
    return [
        {
            "workspace_id": workspace_id,
            "firstname": f"First{i}",
            "lastname": f"Last{i}",
            "company": f"Company {i % 97}",
            "type": types[i % 2],
            "email": f"contact{i}@example.com" if i % 2 else None,
            "phone": f"+1{SEED_PHONE_BASE + i}",
            "city": "Lisbon",
            "status_id": status_id,
            "source_id": source_id,
        }
        for i in range(CONTACTS)
    ]


async def seed(url: str) -> Seeded:
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as s:
            ws = await WorkspaceService(s).create({"subdomain": SUBDOMAIN, "name": "Bench"})
            _, token = await TokenService(s).create(
                ws,
                {
                    "name": "bench",
                    "abilities": list(ABILITIES),
                    "rate_limit_max": TOKEN_RATE_LIMIT,
                },
            )
            status = await LabelService(STATUSES, s, ws.id).create(
                {"name": "New", "color": "#2196F3", "isdefault": True}
            )
            source = await LabelService(SOURCES, s, ws.id).create({"name": "Website"})
            await s.commit()
            ids = Seeded(token, status.id, source.id)
            workspace_id = ws.id
        async with engine.begin() as conn:
            await conn.execute(
                insert(Contact), contact_rows(workspace_id, ids.status_id, ids.source_id)
            )
        await _settle(engine, url)
        return ids
    finally:
        await engine.dispose()
