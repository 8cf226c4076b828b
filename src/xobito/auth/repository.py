"""All SQL about API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import ApiToken


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, token_hash: str) -> ApiToken | None:
        return (
            await self.session.execute(select(ApiToken).where(ApiToken.token_hash == token_hash))
        ).scalar_one_or_none()

    async def for_workspace(self, workspace_id: int) -> Sequence[ApiToken]:
        stmt = select(ApiToken).where(ApiToken.workspace_id == workspace_id).order_by(ApiToken.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def page(
        self, workspace_id: int, page: int, per_page: int
    ) -> tuple[Sequence[ApiToken], int]:
        """Newest first, and how many the workspace has."""
        stmt = (
            select(ApiToken)
            .where(ApiToken.workspace_id == workspace_id)
            .order_by(ApiToken.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        items = (await self.session.execute(stmt)).scalars().all()
        count = select(func.count()).select_from(ApiToken)
        total = await self.session.scalar(count.where(ApiToken.workspace_id == workspace_id))
        return items, int(total or 0)

    async def get(self, workspace_id: int, token_id: int) -> ApiToken | None:
        stmt = select(ApiToken).where(
            ApiToken.workspace_id == workspace_id, ApiToken.id == token_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        await self.session.flush()
        return token

    async def touch(self, token_id: int, when: datetime) -> None:
        await self.session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=when)
        )
