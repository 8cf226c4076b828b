"""Real ``xobito worker`` processes and bulk outbox writes, for the crash and multi-worker
tests (PostgreSQL only: SQLite is one writer in one process)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.servers import server_env
from xobito.models import WebhookDelivery
from xobito.webhook.events import emit


def require_postgres(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("needs PostgreSQL: several worker processes share one database")


class WorkerProcess:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def started(self, limit: float = 30.0) -> None:
        """Bounded polling until the worker logged that its loop runs."""
        deadline = time.monotonic() + limit
        while "worker_started" not in self.output():
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker did not start:\n{self.output()}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # SIGKILL: no clean-up of any kind
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def worker(backend: Backend, workdir: Path, name: str, **settings: str) -> Iterator[WorkerProcess]:
    """``python -m xobito.cli.main worker`` with the test database, from an empty directory."""
    extra = {"XOBITO_LOG_LEVEL": "INFO", "XOBITO_LOG_FORMAT": "console"}
    extra.update({f"XOBITO_{k.upper()}": v for k, v in settings.items()})
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "xobito.cli.main", "worker"],
            env=server_env(backend, ADMIN_KEY, extra),
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    w = WorkerProcess(process, log)
    try:
        yield w
    finally:
        w.stop()


async def queue_events(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace_id: int,
    endpoint_id: int,
    count: int,
    batch: int = 1000,
) -> list[str]:
    """``count`` events for one endpoint through the real ``emit``; returns their ids."""
    ids: list[str] = []
    for start in range(0, count, batch):
        async with sessionmaker() as s:
            for n in range(start, min(count, start + batch)):
                event_id = await emit(
                    s,
                    workspace_id,
                    "contacts.created",
                    "created",
                    {"event": "created", "n": n},
                    endpoint_ids=[endpoint_id],
                )
                assert event_id is not None
                ids.append(event_id)
            await s.commit()
    return ids


async def delivered(session: AsyncSession) -> int:
    await session.rollback()
    stmt = select(func.count()).where(WebhookDelivery.state == "delivered")
    return int(await session.scalar(stmt) or 0)


async def wait_delivered(
    session: AsyncSession, count: int, workers: list[WorkerProcess], limit: float = 120.0
) -> None:
    """Bounded polling of the database until ``count`` deliveries are delivered."""
    deadline = time.monotonic() + limit
    while (done := await delivered(session)) < count:
        for w in workers:
            if w.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{w.output()}")
        if time.monotonic() > deadline:
            logs = "\n".join(w.output()[-3000:] for w in workers)
            raise TimeoutError(f"{done} of {count} delivered after {limit} s\n{logs}")
        await asyncio.sleep(0.1)
