"""The inbox's rules: which conversations, their messages, who handles them, and what the
open pages hear about it (``live.publish`` in the change's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.chat.repository import ChatListRepository, ChatQuery, PeopleRepository, ThreadRepository
from xobito.chat.schemas import AssignIn, chat_record, contact_name, message_record
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.time import utcnow
from xobito.kit.validation import require
from xobito.live.publish import publish
from xobito.models import Chat, Contact, Message, User

CHAT_NOT_FOUND = "Chat not found"
USER_INVALID = "The selected user id is invalid."


@dataclass(slots=True)
class Conversation:
    """One conversation as a list or page shows it."""

    chat: Chat
    contact: Contact
    last: Message | None
    assignee: User | None

    @property
    def name(self) -> str:
        return contact_name(self.contact)


@dataclass(slots=True)
class Thread:
    """A page of a conversation's messages, and who they name."""

    messages: list[Message]
    more: bool  # older messages exist (newest-first pages) / newer ones (``after`` pages)
    users: dict[int, User]
    tokens: dict[int, str]
    quoted: dict[str, Message]  # replied-to messages by wamid


def replied_to(m: Message) -> str | None:
    """The wamid a message quotes: an inbound one's ``context``, or the ``context`` of the
    Graph request an agent's reply was sent with."""
    if m.context_message_id:
        return m.context_message_id
    context = (m.payload or {}).get("context") if m.direction == "outbound" else None
    found = context.get("message_id") if isinstance(context, dict) else None
    return found if isinstance(found, str) else None


class ChatService:
    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.chats = ChatListRepository(session, workspace_id)
        self.thread = ThreadRepository(session, workspace_id)
        self.people = PeopleRepository(session, workspace_id)

    # ---- reading ---------------------------------------------------------------------------

    async def page(self, q: ChatQuery) -> tuple[list[Conversation], bool]:
        """A page of conversations newest first, and whether another follows."""
        rows = list(await self.chats.list(q))
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        lasts = await self.thread.last_of([chat.id for chat, _ in rows])
        wanted = {chat.assigned_user_id for chat, _ in rows if chat.assigned_user_id}
        users = await self.people.members(wanted)
        found = [
            Conversation(chat, contact, lasts.get(chat.id), users.get(chat.assigned_user_id or 0))
            for chat, contact in rows
        ]
        return found, more

    async def count(self, q: ChatQuery) -> int:
        return await self.chats.count_query(q)

    async def get(self, chat_id: int, *, lock: bool = False) -> Conversation:
        row = await self.chats.with_contact(chat_id, lock=lock)
        if row is None:
            raise NotFound(CHAT_NOT_FOUND)
        chat, contact = row
        assignee = None
        if chat.assigned_user_id is not None:
            assignee = (await self.people.members([chat.assigned_user_id])).get(
                chat.assigned_user_id
            )
        lasts = await self.thread.last_of([chat.id])
        return Conversation(chat, contact, lasts.get(chat.id), assignee)

    async def messages(
        self, chat_id: int, *, before: int | None = None, after: int | None = None, limit: int = 50
    ) -> Thread:
        await self.get(chat_id)
        rows = list(await self.thread.page(chat_id, before=before, after=after, limit=limit))
        more = len(rows) > limit
        rows = rows[:limit]
        return await self.describe(rows, more)

    async def describe(self, rows: Sequence[Message], more: bool = False) -> Thread:
        users = await self.people.members({m.user_id for m in rows if m.user_id})
        tokens = await self.people.tokens({m.token_id for m in rows if m.token_id})
        quoted = await self.thread.by_wamids({q for m in rows if (q := replied_to(m))})
        return Thread(list(rows), more, users, tokens, quoted)

    async def members(self) -> dict[int, User]:
        """Everyone who may be assigned (the workspace's members), by name."""
        return await self.people.members()

    def record(
        self,
        c: Conversation,
        users: dict[int, User] | None = None,
        tokens: dict[int, str] | None = None,
    ) -> dict[str, Any]:
        last = None
        if c.last is not None:
            last = message_record(c.last, users or {}, tokens or {}, c.name)
        return chat_record(c.chat, c.contact, last, c.assignee)

    async def records(self, found: Sequence[Conversation]) -> list[dict[str, Any]]:
        thread = await self.describe([c.last for c in found if c.last is not None])
        return [self.record(c, thread.users, thread.tokens) for c in found]

    # ---- changing --------------------------------------------------------------------------

    async def assign(self, chat_id: int, raw: Any) -> Conversation:
        data = require(AssignIn, raw)
        return await self.assign_to(chat_id, data.user_id)

    async def assign_to(self, chat_id: int, user_id: int | None) -> Conversation:
        c = await self.get(chat_id, lock=True)
        assignee = None
        if user_id is not None:
            assignee = (await self.people.members([user_id])).get(user_id)
            if assignee is None:
                raise ValidationFailed({"user_id": [USER_INVALID]})
        if c.chat.assigned_user_id != user_id:
            previous = c.chat.assigned_user_id
            c.chat.assigned_user_id = user_id
            publish(
                self.session,
                self.workspace_id,
                "assignment",
                chat_id=chat_id,
                data={"user_id": user_id, "previous": previous},
            )
        c.assignee = assignee
        await self.session.flush()
        return c

    async def resolve(self, chat_id: int) -> Conversation:
        c = await self.get(chat_id, lock=True)
        if c.chat.resolved_at is None:
            c.chat.resolved_at = utcnow()
            self._changed(chat_id, "resolved")
        await self.session.flush()
        return c

    async def reopen(self, chat_id: int) -> Conversation:
        c = await self.get(chat_id, lock=True)
        if c.chat.resolved_at is not None:
            c.chat.resolved_at = None
            self._changed(chat_id, "reopened")
        await self.session.flush()
        return c

    async def mark_read(self, chat_id: int) -> bool:
        """An agent opened it: unread back to 0 (whether it had any)."""
        cleared = await self.chats.clear_unread(chat_id)
        if cleared:
            self._changed(chat_id, "read")
        return cleared

    def _changed(self, chat_id: int, change: str) -> None:
        publish(
            self.session,
            self.workspace_id,
            "conversation",
            chat_id=chat_id,
            data={"change": change},
        )
