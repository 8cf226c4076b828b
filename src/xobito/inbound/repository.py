"""All SQL about the inbox."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from xobito.inbound.scope import Scope
from xobito.kit.group_commit import GroupCommit
from xobito.kit.time import utcnow
from xobito.models import InboxEvent

# One round trip and one commit for every body of a group (PostgreSQL, autocommit).
PG_INSERT = (
    "INSERT INTO inbox_events (body, received_at, attempts, verified_for) "
    "SELECT b, $2::timestamptz, 0, v::json FROM unnest($1::bytea[], $3::text[]) AS t(b, v)"
)
MAX_GROUP = 500
MAX_GROUP_BYTES = 8 * 1024 * 1024  # webhooks are small; a few 3 MB ones go in groups of two


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, body: bytes, scope: Scope) -> InboxEvent:
        """``scope``: the workspaces the body may change (``inbound.scope``)."""
        event = InboxEvent(body=body, verified_for=scope.stored())
        self.session.add(event)
        await self.session.flush()
        return event


class InboxWriter:
    """Stores verified webhook bodies durably, each in a committed row before ``add`` returns.

    Concurrent calls are written together (group commit): while one group's INSERT runs,
    the bodies that arrive queue up and go in the next single multi-row INSERT. On PostgreSQL
    the INSERT runs in autocommit on the driver connection (no BEGIN/COMMIT round trips);
    elsewhere in an ordinary transaction. A failed write fails every call of its group.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.postgres = engine.dialect.name == "postgresql"
        if self.postgres:
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.engine = engine
        self._groups: GroupCommit[tuple[bytes, Scope], None] = GroupCommit(
            self._write, group_size=_group_size, name="xobito-inbox-writer"
        )

    async def add(self, body: bytes, scope: Scope) -> None:
        """``scope``: the workspaces the body's signature verified (``inbound.scope``)."""
        await self._groups.submit((body, scope))

    async def _write(self, items: Sequence[tuple[bytes, Scope]]) -> list[None]:
        now = utcnow()
        async with self.engine.connect() as conn:
            if self.postgres:
                raw = await conn.get_raw_connection()
                bodies = [body for body, _ in items]
                scopes = [orjson.dumps(scope.stored()).decode() for _, scope in items]
                await raw.driver_connection.execute(PG_INSERT, bodies, now, scopes)  # type: ignore[union-attr]
                return [None] * len(items)
            rows = [
                {"body": body, "received_at": now, "attempts": 0, "verified_for": scope.stored()}
                for body, scope in items
            ]
            await conn.execute(insert(InboxEvent), rows)
            await conn.commit()
        return [None] * len(items)


def _group_size(waiting: list[tuple[bytes, Scope]]) -> int:
    """The oldest waiting bodies, at most ``MAX_GROUP`` of them and ``MAX_GROUP_BYTES``
    together (at least one)."""
    count, size = 0, 0
    for body, _ in waiting[:MAX_GROUP]:
        size += len(body)
        if count and size > MAX_GROUP_BYTES:
            break
        count += 1
    return count
