"""The doctor's reads of our own records: templates, recent sends, webhook traffic."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.inbound.repository import TrafficRepository, TrafficSummary
from xobito.models import Message, Template


class DoctorRepository:
    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def templates(self) -> tuple[int, int]:
        """How many templates the workspace has, and how many of them are approved."""
        stmt = select(func.count(), func.count().filter(Template.status == "APPROVED")).where(
            Template.workspace_id == self.workspace_id
        )
        total, approved = (await self.session.execute(stmt)).one()
        return int(total), int(approved)

    async def sent_since(self, since: datetime) -> bool:
        """Whether Meta accepted an outbound message of the workspace since then."""
        stmt = (
            select(Message.id)
            .where(
                Message.workspace_id == self.workspace_id,
                Message.direction == "outbound",
                Message.sent_at >= since,
            )
            .limit(1)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def traffic(self, since: datetime) -> TrafficSummary:
        return await TrafficRepository(self.session).since(self.workspace_id, since)
