"""All SQL about the inbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import InboxEvent


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, body: bytes) -> InboxEvent:
        event = InboxEvent(body=body)
        self.session.add(event)
        await self.session.flush()
        return event
