"""All SQL about jobs and the inbox queue.

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL inside the processing transaction, so
several workers never take the same row, and a worker that dies releases its rows with its
connection (the job is simply retried). SQLite has one writer at a time and ignores the clause.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.time import utcnow
from xobito.models import InboxEvent, Job


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def enqueue(
        self, kind: str, payload: dict[str, Any], *, delay: float = 0, max_attempts: int = 10
    ) -> Job:
        """Add a job to the caller's transaction: it exists exactly when the change commits."""
        job = Job(
            kind=kind,
            payload=payload,
            run_at=utcnow() + timedelta(seconds=delay),
            max_attempts=max_attempts,
        )
        self.session.add(job)
        return job

    async def claim_due(self, limit: int, now: datetime) -> Sequence[Job]:
        stmt = (
            select(Job)
            .where(Job.finished_at.is_(None), Job.run_at <= now)
            .order_by(Job.run_at, Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def claim_inbox(self, limit: int) -> list[tuple[int, bytes, Any]]:
        """``(id, body, verified_for)`` of the oldest unprocessed rows, locked for this
        transaction."""
        stmt = (
            select(InboxEvent.id, InboxEvent.body, InboxEvent.verified_for)
            .where(InboxEvent.processed_at.is_(None))
            .order_by(InboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(row.id, row.body, row.verified_for) for row in await self.session.execute(stmt)]

    async def mark_inbox_done(self, ids: Sequence[int], now: datetime) -> None:
        """One statement for a whole batch: processed, and one more attempt counted."""
        await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.id.in_(list(ids)))
            .values(processed_at=now, attempts=InboxEvent.attempts + 1)
        )

    async def note_inbox(self, notes: Iterable[tuple[int, str | None]]) -> None:
        """Each row's notes (rare: only rows that have some are written)."""
        for event_id, note in notes:
            if note is not None:
                await self.session.execute(
                    update(InboxEvent).where(InboxEvent.id == event_id).values(notes=note)
                )

    async def retry_later(
        self, job_id: int, attempts: int, error: str, run_at: datetime, give_up: bool
    ) -> None:
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                attempts=attempts,
                last_error=error[:2000],
                run_at=run_at,
                finished_at=utcnow() if give_up else None,
            )
        )

    async def mark_inbox_failed(
        self, event_id: int, attempts: int, error: str, give_up: bool
    ) -> None:
        await self.session.execute(
            update(InboxEvent)
            .where(InboxEvent.id == event_id)
            .values(
                attempts=attempts,
                error=error[:2000],
                processed_at=utcnow() if give_up else None,
            )
        )

    async def depth(self) -> dict[str, tuple[int, float]]:
        """Waiting rows and the age in seconds of the oldest, per queue (for /metrics)."""
        now = utcnow()
        out: dict[str, tuple[int, float]] = {}
        jobs = (
            await self.session.execute(
                select(func.count(), func.min(Job.run_at)).where(
                    Job.finished_at.is_(None), Job.run_at <= now
                )
            )
        ).one()
        inbox = (
            await self.session.execute(
                select(func.count(), func.min(InboxEvent.received_at)).where(
                    InboxEvent.processed_at.is_(None)
                )
            )
        ).one()
        for name, (count, oldest) in (("jobs", jobs), ("inbox", inbox)):
            age = (now - oldest).total_seconds() if oldest is not None else 0.0
            out[name] = (int(count), max(0.0, age))
        return out
