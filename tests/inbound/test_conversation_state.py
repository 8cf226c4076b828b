"""What customers' messages and Meta's statuses do to conversations: unread counts, reopening,
the live events of the open pages, and the status webhooks kept for the message timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from tests.inbound.conftest import Line, Meta
from xobito.kit.time import utcnow
from xobito.models import Chat, LiveEvent, MessageStatus
from xobito.testing.meta_webhooks import (
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
)

CUSTOMER = "16505551234"


def text(line: Line, body: str, **kw: Any) -> dict[str, Any]:
    return build_text_message_webhook(
        CUSTOMER, body, phone_number_id=line.phone_number_id, waba_id=line.waba_id, **kw
    )


async def live(meta: Meta, workspace_id: int) -> list[tuple[str, int | None, Any]]:
    rows = await meta.scalars(
        select(LiveEvent).where(LiveEvent.workspace_id == workspace_id).order_by(LiveEvent.id)
    )
    return [(r.kind, r.chat_id, r.data) for r in rows]


async def test_customer_messages_count_unread_and_announce_a_new_conversation(
    meta: Meta,
) -> None:
    line, other = await meta.line(), await meta.line()
    await meta.deliver(text(line, "one", wamid="wamid.U1"), line.app_secret)
    await meta.deliver(text(line, "two", wamid="wamid.U2"), line.app_secret)  # same batch
    await meta.drain()
    await meta.deliver(text(line, "three", wamid="wamid.U3"), line.app_secret)
    await meta.deliver(text(line, "three", wamid="wamid.U3"), line.app_secret)  # redelivered
    await meta.drain()
    (contact,) = await meta.contacts(line.workspace_id)
    chat = await meta.chat(contact.id)
    assert chat.unread_count == 3
    messages = await meta.messages(line.workspace_id)
    assert [(k, c) for k, c, _ in await live(meta, line.workspace_id)] == [
        ("message", chat.id),
        ("conversation", chat.id),
        ("message", chat.id),
        ("message", chat.id),
    ]
    events = await meta.scalars(  # in id order (PostgreSQL returns rows in any order without it)
        select(LiveEvent).where(LiveEvent.kind == "message").order_by(LiveEvent.id)
    )
    assert [e.message_id for e in events] == [m.id for m in messages]
    assert (await live(meta, line.workspace_id))[1][2] == {"change": "new"}
    assert await live(meta, other.workspace_id) == []
    # Meta's message object is kept as received (the timeline shows it).
    assert messages[0].payload is not None
    assert messages[0].payload["webhook"]["id"] == "wamid.U1"
    assert messages[0].payload["webhook"]["text"] == {"body": "one"}


async def test_a_new_customer_message_reopens_a_resolved_conversation(meta: Meta) -> None:
    line = await meta.line()
    await meta.deliver(text(line, "hello", wamid="wamid.R1"), line.app_secret)
    await meta.drain()
    (contact,) = await meta.contacts(line.workspace_id)
    async with meta.app.state.sessionmaker() as s:
        await s.execute(
            update(Chat).where(Chat.contact_id == contact.id).values(
                resolved_at=utcnow(), unread_count=0
            )
        )
        await s.commit()
    await meta.deliver(text(line, "again", wamid="wamid.R2"), line.app_secret)
    await meta.drain()
    chat = await meta.chat(contact.id)
    assert chat.resolved_at is None and chat.unread_count == 1
    assert (await live(meta, line.workspace_id))[-1] == (
        "conversation",
        chat.id,
        {"change": "reopened"},
    )


async def test_every_status_webhook_is_kept_and_moves_announced(meta: Meta) -> None:
    line = await meta.line()
    message = await meta.outbound(line, "wamid.ST")
    updates = [
        StatusUpdate("wamid.ST", "delivered", CUSTOMER, timestamp=1_750_000_100),
        StatusUpdate("wamid.ST", "delivered", CUSTOMER, timestamp=1_750_000_100),  # duplicate
        StatusUpdate("wamid.ST", "read", CUSTOMER, timestamp=1_750_000_200),
    ]
    for u in updates:
        body = build_status_webhook(
            [u], phone_number_id=line.phone_number_id, waba_id=line.waba_id
        )
        await meta.deliver(body, line.app_secret)
    await meta.drain()
    rows = await meta.scalars(select(MessageStatus).order_by(MessageStatus.id))
    assert [(r.message_id, r.status, r.applied) for r in rows] == [
        (message.id, "delivered", True),
        (message.id, "delivered", False),
        (message.id, "read", True),
    ]
    assert rows[0].payload["id"] == "wamid.ST" and rows[0].payload["timestamp"] == "1750000100"
    assert await live(meta, line.workspace_id) == [
        ("status", message.chat_id, None),
        ("status", message.chat_id, None),
    ]
