"""All SQL about reading the activity log (writing is ``recorder.py``'s)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from xobito.kit.repository import ScopedRepository
from xobito.models import ActivityEntry

CHOICES_LIMIT = 500  # distinct actors or actions offered as filters


class ActivityRepository(ScopedRepository[ActivityEntry]):
    """One workspace's entries."""

    model = ActivityEntry

    def where(
        self,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if actor is not None:
            clauses.append(ActivityEntry.actor_name == actor)
        if action is not None:
            clauses.append(ActivityEntry.action == action)
        if since is not None:
            clauses.append(ActivityEntry.created_at >= since)
        if until is not None:
            clauses.append(ActivityEntry.created_at < until)
        return clauses

    async def newest(
        self, page: int, per_page: int, where: Sequence[ColumnElement[bool]]
    ) -> tuple[Sequence[ActivityEntry], int]:
        """A page of entries, newest first, and how many match."""
        stmt = (
            self.select()
            .where(*where)
            .order_by(ActivityEntry.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        items: Sequence[ActivityEntry] = (await self.session.execute(stmt)).scalars().all()
        return items, await self.count(*where)

    async def distinct(self, column: ColumnElement[str]) -> list[str]:
        stmt = (
            select(column)
            .where(self.scope())
            .group_by(column)
            .order_by(func.lower(column))
            .limit(CHOICES_LIMIT)
        )
        return [str(v) for v in (await self.session.execute(stmt)).scalars().all()]
