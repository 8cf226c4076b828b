"""All SQL about statuses, sources and groups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select, update

from xobito.kit.repository import ScopedRepository
from xobito.models import Group, Source, Status


class StatusRepository(ScopedRepository[Status]):
    model = Status

    async def clear_default(self, keep_id: int) -> None:
        await self.session.execute(
            update(Status)
            .where(self.scope(), Status.id != keep_id, Status.isdefault.is_(True))
            .values(isdefault=False)
        )

    async def default(self) -> Status | None:
        stmt = self.select().where(Status.isdefault.is_(True)).order_by(Status.id).limit(1)
        status: Status | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return status


class SourceRepository(ScopedRepository[Source]):
    model = Source


class GroupRepository(ScopedRepository[Group]):
    model = Group

    async def by_names(self, names: Iterable[str]) -> Sequence[Group]:
        wanted = list(names)
        if not wanted:
            return []
        stmt = self.select().where(Group.name.in_(wanted))
        groups: Sequence[Group] = (await self.session.execute(stmt)).scalars().all()
        return groups

    async def ensure(self, names: Sequence[str]) -> list[int]:
        """Ids of the named groups, creating the missing ones (spec §5 ``groups``)."""
        found = {g.name: g.id for g in await self.by_names(names)}
        for name in names:
            if name not in found:
                found[name] = (await self.add(Group(name=name))).id
        return sorted({found[n] for n in names})

    async def names_taken(self, names: Sequence[str]) -> set[str]:
        stmt = select(Group.name).where(self.scope(), Group.name.in_(list(names)))
        return set((await self.session.execute(stmt)).scalars().all())
