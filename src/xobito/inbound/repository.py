"""All SQL about the inbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from xobito.inbound.scope import Scope
from xobito.kit.group_commit import GroupCommit
from xobito.kit.time import utcnow
from xobito.models import InboxEvent, PhoneNumber, WebhookTraffic, WhatsAppConnection

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


@dataclass(frozen=True, slots=True)
class TrafficRow:
    """What one flush adds to a workspace's hour (``inbound.traffic``)."""

    workspace_id: int
    hour: datetime
    accepted: int
    rejected: int
    last_accepted_at: datetime | None
    last_rejected_at: datetime | None


@dataclass(frozen=True, slots=True)
class TrafficSummary:
    accepted: int
    rejected: int
    last_accepted_at: datetime | None
    last_rejected_at: datetime | None


def _later(column: Any, new: Any) -> Any:
    """The later of a stored and a new nullable timestamp (SQLite's max() is NULL if either
    is; PostgreSQL's GREATEST ignores NULLs: one expression for both)."""
    return case(
        (new.is_(None), column),
        (column.is_(None), new),
        (new > column, new),
        else_=column,
    )


class TrafficRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def owners(self, numbers: Collection[str]) -> dict[str, int]:
        """phone_number_id -> the workspace owning it (unknown numbers left out)."""
        if not numbers:
            return {}
        stmt = select(PhoneNumber.phone_number_id, PhoneNumber.workspace_id).where(
            PhoneNumber.phone_number_id.in_(list(numbers))
        )
        return {row.phone_number_id: row.workspace_id for row in await self.session.execute(stmt)}

    async def waba_workspaces(self, wabas: Collection[str]) -> dict[str, set[int]]:
        """WABA id -> the workspaces connected to it."""
        if not wabas:
            return {}
        stmt = select(WhatsAppConnection.waba_id, WhatsAppConnection.workspace_id).where(
            WhatsAppConnection.waba_id.in_(list(wabas))
        )
        found: dict[str, set[int]] = {}
        for row in await self.session.execute(stmt):
            found.setdefault(row.waba_id, set()).add(row.workspace_id)
        return found

    async def add(self, rows: Sequence[TrafficRow]) -> None:
        """Adds each row's counts to its workspace's hour (one statement; each
        ``(workspace_id, hour)`` at most once)."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert_(WebhookTraffic).values([asdict(r) for r in rows])
        table = WebhookTraffic
        new = stmt.excluded
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["workspace_id", "hour"],
                set_={
                    "accepted": table.accepted + new.accepted,
                    "rejected": table.rejected + new.rejected,
                    "last_accepted_at": _later(table.last_accepted_at, new.last_accepted_at),
                    "last_rejected_at": _later(table.last_rejected_at, new.last_rejected_at),
                },
            )
        )

    async def since(self, workspace_id: int, since: datetime) -> TrafficSummary:
        """Totals of the hours starting at or after ``since``."""
        stmt = select(
            func.coalesce(func.sum(WebhookTraffic.accepted), 0),
            func.coalesce(func.sum(WebhookTraffic.rejected), 0),
            func.max(WebhookTraffic.last_accepted_at),
            func.max(WebhookTraffic.last_rejected_at),
        ).where(WebhookTraffic.workspace_id == workspace_id, WebhookTraffic.hour >= since)
        accepted, rejected, last_accepted, last_rejected = (await self.session.execute(stmt)).one()
        return TrafficSummary(
            int(accepted),
            int(rejected),
            _aware(last_accepted),
            _aware(last_rejected),
        )

    async def purge(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(WebhookTraffic).where(WebhookTraffic.hour < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _aware(value: Any) -> datetime | None:
    """Aggregates bypass the column type: SQLite hands back naive text or datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
