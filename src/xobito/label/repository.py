"""All SQL about statuses, sources and groups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal, select, true, update
from sqlalchemy.exc import DBAPIError

from xobito.kit.db import UTCDateTime
from xobito.kit.repository import ScopedRepository
from xobito.kit.sql import dialect_of, insert_ignoring_duplicates, value_rows
from xobito.kit.time import utcnow
from xobito.models import Group, Source, Status

# pg_advisory_xact_lock(class, workspace id): the class of lock that serialises changes of a
# workspace's default status.
DEFAULT_STATUS_LOCK = 0x58535400
DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE deadlock_detected
DEADLOCK_RETRIES = 3


class StatusRepository(ScopedRepository[Status]):
    model = Status

    async def clear_default(self, keep_id: int | None) -> None:
        """Make no status but ``keep_id`` the default, after waiting for any other
        transaction changing this workspace's default (PostgreSQL: an advisory lock held
        to the end of the transaction).

        Without the wait, two requests each clear the defaults they can see, neither sees
        the other's uncommitted one, and both commit theirs; the partial unique index
        ``uq_statuses_workspace_id_default`` would then refuse the second. After the wait
        this statement sees the committed one and clears it, so the last to commit wins.
        SQLite needs no lock: a transaction holds the only connection.
        """
        if dialect_of(self.session) == "postgresql":
            lock = func.pg_advisory_xact_lock(DEFAULT_STATUS_LOCK, self.workspace_id)
            await self.session.execute(select(lock))
        stmt = update(Status).where(self.scope(), Status.isdefault.is_(True))
        if keep_id is not None:
            stmt = stmt.where(Status.id != keep_id)
        await self.session.execute(stmt.values(isdefault=False))

    async def default(self) -> Status | None:
        stmt = self.select().where(Status.isdefault.is_(True)).order_by(Status.id).limit(1)
        status: Status | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return status


class SourceRepository(ScopedRepository[Source]):
    model = Source


class GroupRepository(ScopedRepository[Group]):
    model = Group

    async def ensure(self, names: Sequence[str]) -> list[int]:
        """Ids of the named groups, creating the missing ones (docs/api/contacts.md ``groups``), in
        the
        order named (so their ids follow it).

        One statement when the groups exist; three when some are new, whatever the number
        of names. A group created meanwhile by another transaction is used: the INSERT waits
        for it and skips the name, and the next SELECT (a new snapshot under READ COMMITTED)
        sees it.
        """
        found = await self.ensure_named(names)
        # (A name can only be absent if its group was deleted meanwhile: left out.)
        return sorted({found[n] for n in names if n in found})

    async def ensure_named(self, names: Sequence[str]) -> dict[str, int]:
        """``ensure``, answering each name's id."""
        if not names:
            return {}
        found = await self._ids_by_name(names)
        missing = [n for n in names if n not in found]
        if missing:
            await self._insert(missing)
            found.update(await self._ids_by_name(missing))
        return found

    async def _ids_by_name(self, names: Sequence[str]) -> dict[str, int]:
        rows = value_rows(dialect_of(self.session), names)
        stmt = select(Group.name, Group.id).where(
            self.scope(), Group.name.in_(select(rows.c.value))
        )
        return {name: id_ for name, id_ in (await self.session.execute(stmt)).all()}

    async def _insert(self, names: Sequence[str]) -> None:
        dialect = dialect_of(self.session)
        rows = value_rows(dialect, names)
        now = literal(utcnow(), UTCDateTime())
        source = select(literal(self.workspace_id), rows.c.value, now, now).where(
            true()  # SQLite: INSERT ... SELECT ... ON CONFLICT needs a WHERE
        )
        stmt = (
            insert_ignoring_duplicates(dialect, Group)
            .from_select(["workspace_id", "name", "created_at", "updated_at"], source)
            .on_conflict_do_nothing(index_elements=["workspace_id", "name"])
        )
        if dialect != "postgresql":  # one writer at a time: nothing to wait for
            await self.session.execute(stmt)
            return
        # Two requests creating the same new groups in different orders wait for each
        # other; PostgreSQL aborts one (deadlock), which rolls back to its savepoint and
        # tries again, now waiting for the other's commit.
        for attempt in range(1, DEADLOCK_RETRIES + 1):
            try:
                async with self.session.begin_nested():
                    await self.session.execute(stmt)
                return
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != DEADLOCK or attempt == DEADLOCK_RETRIES:
                    raise
