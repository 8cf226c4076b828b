"""All SQL about workspaces."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import Workspace


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_subdomain(self, subdomain: str) -> Workspace | None:
        return (
            await self.session.execute(select(Workspace).where(Workspace.subdomain == subdomain))
        ).scalar_one_or_none()

    async def all(self) -> Sequence[Workspace]:
        return (
            (await self.session.execute(select(Workspace).order_by(Workspace.id))).scalars().all()
        )

    async def add(self, workspace: Workspace) -> Workspace:
        self.session.add(workspace)
        await self.session.flush()
        return workspace
