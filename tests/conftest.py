"""Fixtures every test shares: a migrated database, the app, an HTTP client, factories.

Each test starts from empty tables (rows are deleted after the test, identities reset), with a
fresh rate-limit store and empty auth caches.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests import backends
from tests.backends import Backend, close_backend, open_backend
from tests.factories import Factory
from xobito.app import create_app
from xobito.config import Settings
from xobito.kit.db import dispose_engine, make_engine, make_sessionmaker
from xobito.kit.migrate import upgrade
from xobito.models import Base

ADMIN_KEY = "test-admin-key"


def pytest_sessionstart(session: pytest.Session) -> None:
    backends.note_start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reason = backends.vanished()
    if reason is not None:
        session.config.stash[_VANISHED] = reason
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_VANISHED = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """What was skipped and why, loudly: a green run that skipped half the suite is not green.
    ``XOBITO_TEST_SKIP_REPORT`` names a file that gets the same lines (scripts/test.sh)."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[text.removeprefix("Skipped: ")] += 1
    backend = backends.backend_name()
    lines = [f"{count:6d} x {reason}" for reason, count in reasons.most_common()]
    gone = config.stash.get(_VANISHED, None)
    if gone:
        lines.insert(0, f"FAILED: PostgreSQL/Redis stopped answering during the run: {gone}")
    if lines:
        title = f"{sum(reasons.values())} TESTS SKIPPED on {backend}"
        if gone:
            title += " (RUN FAILED)"
        terminalreporter.write_sep("!", title, red=True, bold=True)
        for line in lines:
            terminalreporter.write_line(line, red=True, bold=True)
        terminalreporter.write_sep("!", red=True, bold=True)
    report_file = os.environ.get("XOBITO_TEST_SKIP_REPORT")
    if report_file:
        summary = f"{backend}: {sum(reasons.values())} skipped" + "".join(
            f"\n  {line}" for line in lines
        )
        Path(report_file).write_text(summary + "\n")


@pytest.fixture(scope="session")
def backend() -> Iterator[Backend]:
    with tempfile.TemporaryDirectory(prefix="xobito-test-") as tmp:
        b = open_backend(tmp)
        upgrade(b.database_url)
        yield b
        close_backend(b)


@pytest.fixture(scope="session")
def settings(backend: Backend) -> Settings:
    return Settings(
        env="testing",
        database_url=backend.database_url,
        redis_url=backend.redis_url,
        redis_prefix=backend.redis_prefix,
        admin_key=ADMIN_KEY,
        auth_cache_seconds=0,
        worker_in_process=False,
        sandbox_status_delay_seconds=0,
        password_hashing="fast",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    # What the lifespan would close (tests run without it): the providers' and the
    # dispatcher's HTTP sessions, else "Unclosed client session" at exit.
    for provider in [
        *application.state.providers.values(),
        *application.state.campaign_providers.values(),
    ]:
        await provider.close()
    await application.state.dispatcher.close()
    await dispose_engine(application.state.engine)


@pytest.fixture(autouse=True)
async def _clean(app: FastAPI, backend: Backend) -> AsyncIterator[None]:
    yield
    await app.state.webhook_traffic.discard()
    await app.state.limiter.reset()
    app.state.authenticator.workspaces.clear()
    app.state.authenticator.tokens.clear()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in tables)
    async with app.state.engine.begin() as conn:
        used = set((await conn.execute(text(probe))).scalars().all())
        dirty = [t for t in tables if t in used]  # children before parents
        if not dirty:
            return
        if backend.name == "postgres":
            # DELETE + sequence reset on the few used tables beats TRUNCATE of all of them.
            sql = "; ".join(
                [f"DELETE FROM {t}" for t in dirty]
                + [f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), 1, false)"
                   for t in dirty if "id" in Base.metadata.tables[t].c]
            )
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(sql)  # type: ignore[union-attr]
        else:
            for name in dirty:
                await conn.execute(text(f"DELETE FROM {name}"))
            await conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session on its own connection, so it never waits for the app's (SQLite has one).

    Reads see a snapshot: ``await session.rollback()`` before reading what a request wrote.
    """
    engine = make_engine(settings.database_url)
    async with make_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


@pytest.fixture
def factory(app: FastAPI) -> Factory:
    return Factory(app.state.sessionmaker, app.state.settings)


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}
