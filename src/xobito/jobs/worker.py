"""The worker: processes the inbox and due jobs, in batches, one transaction per batch.

A batch's effects and its "done" marks commit together, so a worker killed mid-batch leaves
every row of the batch to be processed again, exactly once, by the next worker. A row that
fails is isolated by re-running the batch one row per transaction; it is retried a bounded
number of times and then set aside with its error, so the inbox never gets stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.config import Settings
from xobito.jobs.maintenance import purge
from xobito.jobs.repository import JobRepository
from xobito.kit.logging import error_text
from xobito.kit.metrics import QUEUE_AGE, QUEUE_DEPTH
from xobito.kit.time import utcnow
from xobito.models import InboxEvent, Job
from xobito.webhook.dispatcher import Dispatcher

log = structlog.get_logger("xobito.worker")

JobHandler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
# Called once, in the transaction that sets a job aside after its last failed attempt, with
# the job's payload and its last error: what the job was doing must not stay "in progress".
GiveUpHandler = Callable[[AsyncSession, dict[str, Any], str], Awaitable[None]]
# Processes stored webhook bodies, in order, in the caller's transaction: each as
# ``(body, verified_for)``, the row's record of what its signature verified. Returns each
# body's notes (what it left out and why), kept on its row.
InboxHandler = Callable[
    [AsyncSession, Sequence[tuple[bytes, Any]]], Awaitable[Sequence[str | None]]
]
INBOX_MAX_ATTEMPTS = 5


class Worker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: dict[str, JobHandler],
        process_inbox: InboxHandler,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.25,
        dispatcher: Dispatcher | None = None,
        settings: Settings | None = None,
        give_up_handlers: dict[str, GiveUpHandler] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.handlers = handlers
        self.give_up_handlers = give_up_handlers or {}
        self.process_inbox = process_inbox
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.dispatcher = dispatcher
        self.settings = settings
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False
        self._next_maintenance = 0.0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Inbox and jobs in this loop; webhook deliveries alongside, in their own loop."""
        log.info("worker_started")
        deliveries = None
        if self.dispatcher is not None:
            deliveries = asyncio.create_task(self.dispatcher.run(self._stop))
        try:
            await self._loop()
        finally:
            if deliveries is not None:
                self._stop.set()
                await deliveries
        log.info("worker_stopped")

    async def _loop(self) -> None:
        while not self._stopping:
            await self._maintain()
            try:
                done = await self.run_once()
            except Exception:  # the database went away, etc.: keep the worker alive
                log.exception("worker_batch_failed")
                done = 0
            if done == 0 and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def _maintain(self) -> None:
        """Hourly clean-up (log retention and friends); failures are logged, not fatal."""
        if self.settings is None or time.monotonic() < self._next_maintenance:
            return
        self._next_maintenance = time.monotonic() + 3600
        try:
            async with self.sessionmaker() as session:
                counts = await purge(session, self.settings, utcnow())
                await session.commit()
            await self.report_depth()
            log.info("maintenance_done", **counts)
        except Exception:
            log.exception("maintenance_failed")

    async def run_once(self) -> int:
        """One inbox batch and one job batch; returns how many rows were handled."""
        return await self._inbox_batch() + await self._job_batch()

    async def drain(self, max_rounds: int = 100) -> int:
        """Run until nothing is due (tests, CLI). Jobs scheduled later are left alone."""
        total = 0
        for _ in range(max_rounds):
            done = await self.run_once()
            total += done
            if done == 0:
                break
        return total

    async def _inbox_batch(self) -> int:
        async with self.sessionmaker() as session:
            repo = JobRepository(session)
            events = await repo.claim_inbox(self.batch_size)
            if not events:
                return 0
            ids = [event_id for event_id, _, _ in events]
            try:
                rows = [(body, scope) for _, body, scope in events]
                notes = await self.process_inbox(session, rows)
                await repo.mark_inbox_done(ids, utcnow())
                await repo.note_inbox(zip(ids, notes, strict=True))
                await session.commit()
                return len(ids)
            except Exception:
                await session.rollback()
        return await self._inbox_one_by_one(ids)

    async def _inbox_one_by_one(self, ids: list[int]) -> int:
        for event_id in ids:
            async with self.sessionmaker() as session:
                event = await session.get(InboxEvent, event_id, with_for_update=True)
                if event is None or event.processed_at is not None:
                    continue
                # Read before processing: a rollback expires the row, and reloading an
                # expired attribute is I/O this async code may not do implicitly.
                previous_attempts = event.attempts
                try:
                    (event.notes,) = await self.process_inbox(
                        session, [(event.body, event.verified_for)]
                    )
                    event.processed_at = utcnow()
                    event.attempts += 1
                    await session.commit()
                except Exception as exc:
                    await session.rollback()
                    attempts = previous_attempts + 1
                    give_up = attempts >= INBOX_MAX_ATTEMPTS
                    log.warning(
                        "inbox_event_failed",
                        id=event_id,
                        attempts=attempts,
                        error=error_text(exc),
                        gave_up=give_up,
                    )
                    await JobRepository(session).mark_inbox_failed(
                        event_id, attempts, error_text(exc), give_up
                    )
                    await session.commit()
        return len(ids)

    async def _job_batch(self) -> int:
        async with self.sessionmaker() as session:
            jobs = await JobRepository(session).claim_due(self.batch_size, utcnow())
            if not jobs:
                return 0
            ids = [j.id for j in jobs]
            try:
                for job in jobs:
                    await self._run(session, job)
                await session.commit()
                return len(ids)
            except Exception:
                await session.rollback()
        for job_id in ids:
            await self._job_alone(job_id)
        return len(ids)

    async def _run(self, session: AsyncSession, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        await handler(session, dict(job.payload))
        job.attempts += 1
        job.finished_at = utcnow()

    async def _job_alone(self, job_id: int) -> None:
        async with self.sessionmaker() as session:
            job = await session.get(Job, job_id, with_for_update=True)
            if job is None or job.finished_at is not None:
                return
            kind, previous_attempts, max_attempts = job.kind, job.attempts, job.max_attempts
            payload = dict(job.payload)
            try:
                await self._run(session, job)
                await session.commit()
            except Exception as exc:
                await session.rollback()
                attempts = previous_attempts + 1
                give_up = attempts >= max_attempts
                delay = min(3600.0, 2.0**attempts)
                log.warning(
                    "job_failed",
                    id=job_id,
                    kind=kind,
                    attempts=attempts,
                    error=error_text(exc),
                    gave_up=give_up,
                )
                await JobRepository(session).retry_later(
                    job_id, attempts, error_text(exc), utcnow() + timedelta(seconds=delay), give_up
                )
                on_give_up = self.give_up_handlers.get(kind) if give_up else None
                if on_give_up is not None:
                    await on_give_up(session, payload, error_text(exc))
                await session.commit()

    async def report_depth(self) -> None:
        async with self.sessionmaker() as session:
            for queue, (depth, age) in (await JobRepository(session).depth()).items():
                QUEUE_DEPTH.labels(queue).set(depth)
                QUEUE_AGE.labels(queue).set(age)
