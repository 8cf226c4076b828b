"""Browsing a workspace's activity log: who did what, when, from where."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.repository import ActivityRepository
from xobito.models import ActivityEntry


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class ActivityService:
    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.repo = ActivityRepository(session, workspace_id)

    async def page(
        self,
        page: int,
        per_page: int,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> tuple[Sequence[ActivityEntry], int]:
        """Newest first; ``since`` and ``until`` are whole days (UTC), both included."""
        where = self.repo.where(
            actor,
            action,
            start_of(since) if since else None,
            start_of(until + timedelta(days=1)) if until else None,
        )
        return await self.repo.newest(page, per_page, where)

    async def actors(self) -> list[str]:
        return await self.repo.distinct(ActivityEntry.actor_name)  # type: ignore[arg-type]

    async def actions(self) -> list[str]:
        return await self.repo.distinct(ActivityEntry.action)  # type: ignore[arg-type]
