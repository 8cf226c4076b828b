"""All SQL about messages and chats."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from xobito.kit.repository import ScopedRepository
from xobito.models import Chat, Message


class MessageRepository(ScopedRepository[Message]):
    model = Message

    async def by_wamid(self, wamid: str, *, lock: bool = False) -> Message | None:
        stmt = self.select().where(Message.wamid == wamid)
        if lock:
            stmt = stmt.with_for_update()
        message: Message | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return message

    async def wamid_exists(self, wamid: str) -> bool:
        stmt = select(Message.id).where(Message.wamid == wamid).limit(1)
        return (await self.session.execute(stmt)).first() is not None


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

    async def ensure(self, contact_id: int, known: Chat | None = None) -> Chat:
        """The contact's chat, created if missing (``known``: already looked up)."""
        chat = known if known is not None else await self.for_contact(contact_id)
        if chat is not None:
            return chat
        try:
            async with self.session.begin_nested():
                return await self.add(Chat(contact_id=contact_id))
        except IntegrityError:  # created concurrently by another request or worker
            chat = await self.for_contact(contact_id)
            assert chat is not None
            return chat
