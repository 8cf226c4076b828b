"""All SQL of the inbox: conversations by latest activity (keyset pages), a conversation's
messages by id, the last message of each listed conversation, and the people a page names."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from xobito.kit.repository import ScopedRepository
from xobito.kit.sql import dialect_of, value_rows
from xobito.models import ApiToken, Chat, Contact, Membership, Message, User


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class ChatQuery:
    """Which conversations, from where. ``assigned``: a user id; ``unassigned``: none;
    ``before``: the (last activity, id) of the previous page's last row."""

    assigned: int | None = None
    unassigned: bool = False
    unread: bool | None = None
    resolved: bool | None = None
    contact_id: int | None = None
    updated_since: datetime | None = None
    search: str | None = None
    before: tuple[datetime, int] | None = None
    limit: int = 25


class ChatListRepository(ScopedRepository[Chat]):
    model = Chat

    def conditions(self, q: ChatQuery) -> list[ColumnElement[bool]]:
        # A conversation is listed once it has a message (a chat row can precede it).
        where: list[ColumnElement[bool]] = [self.scope(), Chat.last_message_at.is_not(None)]
        if q.assigned is not None:
            where.append(Chat.assigned_user_id == q.assigned)
        if q.unassigned:
            where.append(Chat.assigned_user_id.is_(None))
        if q.unread is not None:
            where.append(Chat.unread_count > 0 if q.unread else Chat.unread_count == 0)
        if q.resolved is not None:
            where.append(
                Chat.resolved_at.is_not(None) if q.resolved else Chat.resolved_at.is_(None)
            )
        if q.contact_id is not None:
            where.append(Chat.contact_id == q.contact_id)
        if q.updated_since is not None:
            where.append(Chat.updated_at >= q.updated_since)
        if q.search:
            pattern = like_pattern(q.search)
            full_name = Contact.firstname + " " + func.coalesce(Contact.lastname, "")
            said = exists().where(
                Message.workspace_id == self.workspace_id,
                Message.chat_id == Chat.id,
                Message.text.ilike(pattern, escape="\\"),
            )
            where.append(
                or_(
                    full_name.ilike(pattern, escape="\\"),
                    Contact.lastname.ilike(pattern, escape="\\"),
                    Contact.phone.ilike(pattern, escape="\\"),
                    said,
                )
            )
        if q.before is not None:
            at, chat_id = q.before
            where.append(
                or_(
                    Chat.last_message_at < at,
                    and_(Chat.last_message_at == at, Chat.id < chat_id),
                )
            )
        return where

    async def list(self, q: ChatQuery) -> Sequence[tuple[Chat, Contact]]:
        """One page (``limit`` rows, plus one to tell whether there is a next), newest first."""
        stmt = (
            select(Chat, Contact)
            .join(Contact, Contact.id == Chat.contact_id)
            .where(*self.conditions(q))
            .order_by(Chat.last_message_at.desc(), Chat.id.desc())
            .limit(q.limit + 1)
        )
        rows = (await self.session.execute(stmt)).tuples().all()
        return rows

    async def count(self, *where: ColumnElement[bool]) -> int:
        stmt = select(func.count()).select_from(Chat).where(self.scope(), *where)
        return int((await self.session.execute(stmt)).scalar_one())

    async def count_query(self, q: ChatQuery) -> int:
        stmt = (
            select(func.count())
            .select_from(Chat)
            .join(Contact, Contact.id == Chat.contact_id)
            .where(*self.conditions(q))
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def with_contact(
        self, chat_id: int, *, lock: bool = False
    ) -> tuple[Chat, Contact] | None:
        stmt = (
            select(Chat, Contact)
            .join(Contact, Contact.id == Chat.contact_id)
            .where(self.scope(), Chat.id == chat_id)
        )
        if lock:
            stmt = stmt.with_for_update(of=Chat)
        row = (await self.session.execute(stmt)).tuples().first()
        return row

    async def clear_unread(self, chat_id: int) -> bool:
        """Unread back to 0; whether it was above (one UPDATE: inbound may add meanwhile)."""
        stmt = (
            update(Chat)
            .where(self.scope(), Chat.id == chat_id, Chat.unread_count > 0)
            .values(unread_count=0)
        )
        result = await self.session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))


class ThreadRepository(ScopedRepository[Message]):
    """A conversation's messages (notes included), by id."""

    model = Message

    async def page(  # type: ignore[override]
        self, chat_id: int, *, before: int | None, after: int | None, limit: int
    ) -> Sequence[Message]:
        """``after``: the messages since that id, oldest first; otherwise newest first,
        older than ``before`` when given. ``limit`` + 1 rows (the extra tells "more")."""
        stmt = self.select().where(Message.chat_id == chat_id)
        if after is not None:
            stmt = stmt.where(Message.id > after).order_by(Message.id)
        else:
            if before is not None:
                stmt = stmt.where(Message.id < before)
            stmt = stmt.order_by(Message.id.desc())
        rows: Sequence[Message] = (
            (await self.session.execute(stmt.limit(limit + 1))).scalars().all()
        )
        return rows

    async def last_of(self, chat_ids: Collection[int]) -> dict[int, Message]:
        """The newest message of each of these conversations (one query).

        On PostgreSQL, each conversation's newest message is one backward step of its
        ``(workspace_id, chat_id, id)`` index (a LATERAL subquery per id): a plan made while
        the table was nearly empty (a new installation, kept by the prepared statement)
        cannot turn it into a scan of the workspace's messages. The ``max(id) ... GROUP BY``
        form below, planned that way, re-ran its aggregate for every message of the
        workspace: GET /chats fell from 37 to 5 req/s over 30 s of sends (bench.inbox_live).
        """
        if not chat_ids:
            return {}
        if dialect_of(self.session) == "postgresql":
            return await self._last_of_lateral(chat_ids)
        newest = (
            select(func.max(Message.id))
            .where(self.scope(), Message.chat_id.in_(list(chat_ids)), Message.direction != "note")
            .group_by(Message.chat_id)
        )
        stmt = self.select().where(Message.id.in_(newest))
        found = (await self.session.execute(stmt)).scalars().all()
        return {m.chat_id: m for m in found if m.chat_id is not None}

    async def _last_of_lateral(self, chat_ids: Collection[int]) -> dict[int, Message]:
        ids = value_rows("postgresql", list(chat_ids))
        newest = (
            select(Message)
            .where(self.scope(), Message.chat_id == ids.c.value, Message.direction != "note")
            .order_by(Message.id.desc())
            .limit(1)
            .lateral("newest")
        )
        stmt = select(aliased(Message, newest)).select_from(ids).join(newest, true())
        found = (await self.session.execute(stmt)).scalars().all()
        return {m.chat_id: m for m in found if m.chat_id is not None}

    async def by_ids(self, ids: Collection[int]) -> dict[int, Message]:
        if not ids:
            return {}
        stmt = self.select().where(Message.id.in_(list(ids)))
        return {m.id: m for m in (await self.session.execute(stmt)).scalars().all()}

    async def by_wamids(self, wamids: Collection[str]) -> dict[str, Message]:
        """Messages quoted by replies (``context_message_id``)."""
        if not wamids:
            return {}
        stmt = self.select().where(Message.wamid.in_(list(wamids)))
        return {m.wamid: m for m in (await self.session.execute(stmt)).scalars().all() if m.wamid}


class PeopleRepository:
    """Names of the users and tokens a page mentions (scoped: members and tokens of the
    workspace only)."""

    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def members(self, user_ids: Collection[int] | None = None) -> dict[int, User]:
        stmt = (
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == self.workspace_id)
            .order_by(User.name, User.id)
        )
        if user_ids is not None:
            if not user_ids:
                return {}
            stmt = stmt.where(User.id.in_(list(user_ids)))
        return {u.id: u for u in (await self.session.execute(stmt)).scalars().all()}

    async def tokens(self, token_ids: Collection[int]) -> dict[int, str]:
        if not token_ids:
            return {}
        stmt = select(ApiToken.id, ApiToken.name).where(
            ApiToken.workspace_id == self.workspace_id, ApiToken.id.in_(list(token_ids))
        )
        return {i: name for i, name in (await self.session.execute(stmt)).tuples().all()}
