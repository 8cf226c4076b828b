"""The inbox's SQL on its own: each listed conversation's newest message (notes left out),
one workspace's only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory, Tenant
from xobito.chat.repository import ThreadRepository
from xobito.kit.time import utcnow
from xobito.models import Chat, Message


async def chat_with(
    session: AsyncSession, t: Tenant, contact: dict[str, Any], directions: list[str]
) -> tuple[int, list[int]]:
    """A conversation with one message per direction, in order: (chat id, message ids)."""
    phone = contact["phone"]
    chat = Chat(workspace_id=t.workspace.id, contact_id=contact["id"], last_message_at=utcnow())
    session.add(chat)
    await session.flush()
    ids = []
    for n, direction in enumerate(directions):
        message = Message(
            workspace_id=t.workspace.id,
            chat_id=chat.id,
            contact_id=contact["id"],
            direction=direction,
            type="text",
            phone=phone,
            text=f"{direction} {n}",
            status="received" if direction == "inbound" else "sent",
        )
        session.add(message)
        await session.flush()
        ids.append(message.id)
    return chat.id, ids


async def test_last_of_is_each_conversations_newest_message_but_never_a_note(
    session: AsyncSession, factory: Factory
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    # The contacts first: the factory commits on its own connection (SQLite has one writer).
    people = [await factory.contact(a, phone=f"+1415555010{n}") for n in range(1, 5)]
    other = await factory.contact(b, phone="+14155550101")
    talked, talked_ids = await chat_with(
        session, a, people[0], ["inbound", "outbound", "inbound", "note"]
    )
    once, once_ids = await chat_with(session, a, people[1], ["inbound"])
    noted, _ = await chat_with(session, a, people[2], ["note"])
    empty, _ = await chat_with(session, a, people[3], [])
    theirs, _ = await chat_with(session, b, other, ["inbound", "outbound"])

    found = await ThreadRepository(session, a.workspace.id).last_of(
        [talked, once, noted, empty, theirs]
    )

    assert {chat: m.id for chat, m in found.items()} == {
        talked: talked_ids[2],
        once: once_ids[0],
    }
    assert found[talked].text == "inbound 2"
    assert await ThreadRepository(session, a.workspace.id).last_of([]) == {}
    # Workspace B sees its own conversation, and nothing of A's.
    mine = await ThreadRepository(session, b.workspace.id).last_of([talked, theirs])
    assert list(mine) == [theirs] and mine[theirs].direction == "outbound"
