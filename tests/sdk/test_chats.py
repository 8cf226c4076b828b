"""``client.chats`` and ``client.messages.timeline`` against the real app (sandbox
conversations), the async client; the sync one shares the operations."""

from __future__ import annotations

import pytest
from tests.factories import Factory
from tests.message.conftest import Messaging
from tests.sdk.conftest import MakeClient
from xobito_client import Chat, ChatMessage, CursorPage, NotFoundError, Timeline, ValidationError

PHONES = ["+14155550301", "+14155550302", "+14155550303"]


async def test_list_iterate_messages_assign_resolve_reopen_timeline(
    sdk: MakeClient, factory: Factory, messaging: Messaging
) -> None:
    t = await factory.tenant()
    agent = await factory.user(t.workspace, "agent", name="Ada")
    for phone in PHONES:
        await messaging.sandbox_inbound(t, phone, text=f"hello from {phone}")
    client = sdk(t)
    page = await client.chats.list(per_page=2)
    assert isinstance(page, CursorPage) and page.has_next and len(page.data) == 2
    everything = [c async for c in client.chats.iter(per_page=2)]
    assert [c.contact.phone for c in everything] == list(reversed(PHONES))
    chat = everything[0]
    assert isinstance(chat, Chat) and chat.unread_count == 1 and chat.state == "open"

    assigned = await client.chats.assign(chat.id, agent.id)
    assert assigned.assigned_user is not None and assigned.assigned_user.name == "Ada"
    mine = await client.chats.list(assigned=agent.id)
    assert [c.id for c in mine.data] == [chat.id]
    assert (await client.chats.resolve(chat.id)).state == "resolved"
    assert [c.id for c in (await client.chats.list(resolved=True)).data] == [chat.id]
    assert (await client.chats.reopen(chat.id)).state == "open"
    assert (await client.chats.assign(chat.id, None)).assigned_user is None

    thread = await client.chats.messages(chat.id)
    (message,) = thread.data
    assert isinstance(message, ChatMessage) and message.direction == "inbound"
    assert message.text == f"hello from {PHONES[-1]}"
    since = await client.chats.messages(chat.id, since_id=message.id)
    assert since.data == []

    timeline = await client.messages.timeline(message.message_id or "")
    assert isinstance(timeline, Timeline)
    assert [e.kind for e in timeline.entries] == ["received"]
    by_id = await client.messages.timeline(message.id)
    assert by_id.message.id == message.id


async def test_errors_map_to_the_sdk_exceptions(
    sdk: MakeClient, factory: Factory, messaging: Messaging
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    await messaging.sandbox_inbound(a, PHONES[0])
    (chat,) = (await sdk(a).chats.list()).data
    with pytest.raises(NotFoundError):
        await sdk(b).chats.get(chat.id)
    with pytest.raises(ValidationError) as caught:
        await sdk(a).chats.assign(chat.id, 999_999)
    assert caught.value.errors == {"user_id": ["The selected user id is invalid."]}
