"""All SQL about live events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import LiveEvent


class LiveEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def newest_id(self) -> int:
        """The highest id committed so far (0 before the first event)."""
        found = (await self.session.execute(select(func.max(LiveEvent.id)))).scalar_one()
        return int(found or 0)

    async def oldest_id(self) -> int | None:
        return (await self.session.execute(select(func.min(LiveEvent.id)))).scalar_one()

    async def after(
        self, after_id: int, limit: int, ranges: Sequence[tuple[int, int]] = ()
    ) -> Sequence[LiveEvent]:
        """Every workspace's events above ``after_id`` (and any in ``ranges``), oldest first."""
        wanted = [LiveEvent.id > after_id, *(LiveEvent.id.between(lo, hi) for lo, hi in ranges)]
        stmt = select(LiveEvent).where(or_(*wanted)).order_by(LiveEvent.id).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def of_workspace(
        self, workspace_id: int, after_id: int, up_to: int, limit: int
    ) -> Sequence[LiveEvent]:
        """One workspace's events in ``(after_id, up_to]``, oldest first."""
        stmt = (
            select(LiveEvent)
            .where(
                LiveEvent.workspace_id == workspace_id,
                LiveEvent.id > after_id,
                LiveEvent.id <= up_to,
            )
            .order_by(LiveEvent.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()


async def purge_live_events(session: AsyncSession, before: datetime) -> int:
    """Events older than ``before`` (a stream that far behind is told to resync)."""
    result = await session.execute(delete(LiveEvent).where(LiveEvent.created_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
