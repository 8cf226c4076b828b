"""All SQL about messages and chats."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.repository import ScopedRepository
from xobito.kit.time import utcnow
from xobito.models import Chat, Message


class MessageRepository(ScopedRepository[Message]):
    model = Message

    async def by_wamid(self, wamid: str, *, lock: bool = False) -> Message | None:
        stmt = self.select().where(Message.wamid == wamid)
        if lock:
            stmt = stmt.with_for_update()
        message: Message | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return message

    @staticmethod
    async def stored_anywhere(session: AsyncSession, wamid: str) -> bool:
        """Whether a message with this wamid is stored (operator tools; not tenant-scoped)."""
        stmt = select(Message.id).where(Message.wamid == wamid).limit(1)
        return (await session.execute(stmt)).first() is not None

    async def wamid_exists(self, wamid: str) -> bool:
        stmt = select(Message.id).where(Message.wamid == wamid).limit(1)
        return (await self.session.execute(stmt)).first() is not None


@dataclass(slots=True)
class MessageState:
    """What a status update reads and writes of a message (no ORM object: a batch of
    statuses loads, moves and saves these in bulk)."""

    id: int
    workspace_id: int
    wamid: str
    status: str
    chat_id: int | None
    contact_id: int | None
    phone: str
    text: str | None
    type: str
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    error_code: int | None
    error_message: str | None


STATE_COLUMNS = [getattr(Message, name) for name in MessageState.__slots__]
SAVED = ("status", "sent_at", "delivered_at", "read_at", "failed_at", "error_code", "error_message")
_TABLE = cast(Table, Message.__table__)
SAVE_STATES = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("m_id"))
    .values({n: bindparam(f"m_{n}", type_=_TABLE.c[n].type) for n in (*SAVED, "updated_at")})
)


async def stored_wamids(session: AsyncSession, wamids: Collection[str]) -> set[str]:
    """Which of these wamids a message (of any workspace) already has."""
    if not wamids:
        return set()
    stmt = select(Message.wamid).where(Message.wamid.in_(list(wamids)))
    return {w for w in (await session.execute(stmt)).scalars().all() if w is not None}


class MessageStates:
    """Delivery states of messages of any workspace, by wamid (the inbox worker's batches)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, wamids: Collection[str]) -> dict[str, MessageState]:
        """The messages with these wamids, locked ``FOR UPDATE`` (in id order, so that
        concurrent batches never deadlock on each other) until the transaction ends."""
        if not wamids:
            return {}
        stmt = (
            select(*STATE_COLUMNS)
            .where(Message.wamid.in_(list(wamids)))
            .order_by(Message.id)
            .with_for_update()
        )
        rows = (await self.session.execute(stmt)).all()
        return {row.wamid: MessageState(*row) for row in rows}

    async def save(self, states: Sequence[MessageState], now: datetime) -> None:
        """Write the states back: one executemany UPDATE by primary key (Core: the ORM's
        bulk UPDATE costs several times more per row)."""
        if states:
            rows = [
                {"m_id": m.id, "m_updated_at": now, **{f"m_{n}": getattr(m, n) for n in SAVED}}
                for m in states
            ]
            await self.session.execute(SAVE_STATES, rows)


class ChatRepository(ScopedRepository[Chat]):
    model = Chat

    async def for_contact(self, contact_id: int) -> Chat | None:
        """Looked up once per repository (one request): a send asks at every step."""
        memo: dict[int, Chat] = self.__dict__.setdefault("_by_contact", {})
        if contact_id in memo:
            return memo[contact_id]
        stmt = self.select().where(Chat.contact_id == contact_id)
        chat: Chat | None = (await self.session.execute(stmt)).scalar_one_or_none()
        if chat is not None:
            memo[contact_id] = chat
        return chat

    async def for_contacts(self, contact_ids: Collection[int]) -> dict[int, Chat]:
        """The chats of these contacts (those that have one), in one query."""
        if not contact_ids:
            return {}
        stmt = self.select().where(Chat.contact_id.in_(list(contact_ids)))
        chats: Sequence[Chat] = (await self.session.execute(stmt)).scalars().all()
        return {chat.contact_id: chat for chat in chats}

    async def ensure(self, contact_id: int, known: Chat | None = None) -> Chat:
        """The contact's chat, created if missing (``known``: already looked up)."""
        chat = known if known is not None else await self.for_contact(contact_id)
        if chat is not None:
            return chat
        return await self.create(contact_id)

    async def create_for_new(self, contact_ids: Collection[int]) -> dict[int, Chat]:
        """Chats of contacts created in this transaction (nobody else can have made one), in
        one statement; returned by contact id, loaded."""
        if not contact_ids:
            return {}
        now = utcnow()
        rows = [
            {
                "workspace_id": self.workspace_id,
                "contact_id": c,
                "unread_count": 0,
                "created_at": now,
                "updated_at": now,
            }
            for c in contact_ids
        ]
        # Rows as parameters, not .values(rows): one compiled statement for any count
        # (SQLAlchemy's insertmanyvalues writes the VALUES at execution).
        chats = await self.session.scalars(insert(Chat).returning(Chat), rows)
        return {chat.contact_id: chat for chat in chats.all()}

    async def create(self, contact_id: int) -> Chat:
        """A new chat for the contact, or the one created concurrently."""
        try:
            async with self.session.begin_nested():
                return await self.add(Chat(contact_id=contact_id))
        except IntegrityError:  # created concurrently by another request or worker
            chat = await self.for_contact(contact_id)
            assert chat is not None
            return chat
