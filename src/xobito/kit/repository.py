"""The one door for tenant-owned rows: every query is scoped to one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


class ScopedRepository(Generic[T]):
    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id

    def scope(self) -> ColumnElement[bool]:
        return self.model.workspace_id == self.workspace_id  # type: ignore[no-any-return]

    def select(self) -> Select[Any]:
        return select(self.model).where(self.scope())

    async def get(self, record_id: int) -> T | None:
        stmt = self.select().where(self.model.id == record_id)
        obj: T | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return obj

    async def page(
        self, page: int, per_page: int, *where: ColumnElement[bool]
    ) -> tuple[Sequence[T], int]:
        stmt = self.select().where(*where).order_by(self.model.id)
        stmt = stmt.limit(per_page).offset((page - 1) * per_page)
        items: Sequence[T] = (await self.session.execute(stmt)).scalars().all()
        if len(items) < per_page and (items or page == 1):
            total = (page - 1) * per_page + len(items)  # the last page tells the total
        else:
            total = await self.count(*where)
        return items, total

    async def count(self, *where: ColumnElement[bool]) -> int:
        stmt = select(func.count()).select_from(self.model).where(self.scope(), *where)
        return int((await self.session.execute(stmt)).scalar_one())

    async def taken(
        self, column: InstrumentedAttribute[Any], value: Any, exclude_id: int | None = None
    ) -> bool:
        stmt = select(self.model.id).where(self.scope(), column == value).limit(1)
        if exclude_id is not None:
            stmt = stmt.where(self.model.id != exclude_id)
        return (await self.session.execute(stmt)).first() is not None

    async def existing_ids(self, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        stmt = select(self.model.id).where(self.scope(), self.model.id.in_(ids))
        return set((await self.session.execute(stmt)).scalars().all())

    async def add(self, obj: T) -> T:
        obj.workspace_id = self.workspace_id  # type: ignore[attr-defined]
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def remove(self, obj: T) -> None:
        await self.session.execute(
            delete(self.model).where(self.scope(), self.model.id == obj.id)  # type: ignore[attr-defined]
        )
        self.session.expunge(obj)
