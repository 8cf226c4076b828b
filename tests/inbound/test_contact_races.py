"""Inbound traffic auto-creating its sender while a POST /contacts creates the same number
(issue 9): the messages are stored on the one contact, the POST answers 201 or 422."""

from __future__ import annotations

import asyncio

import httpx

from tests.inbound.conftest import Meta
from xobito.models import Contact
from xobito.testing.meta_webhooks import build_text_message_webhook

CUSTOMER = "16505551234"
N = 6


async def test_inbound_sender_and_post_contacts_of_one_number(
    meta: Meta, client: httpx.AsyncClient
) -> None:
    line = await meta.line()
    t = line.tenant
    status, source = await meta.factory.status(t), await meta.factory.source(t)
    for n in range(N):
        await meta.deliver(
            build_text_message_webhook(
                CUSTOMER,
                f"Hello {n}",
                phone_number_id=line.phone_number_id,
                waba_id=line.waba_id,
            ),
            line.app_secret,
        )
    body = {
        "firstname": "Ann",
        "phone": f"+{CUSTOMER}",
        "type": "customer",
        "status_id": status.id,
        "source_id": source.id,
    }
    posts = [client.post(t.url("/contacts"), json=body, headers=t.headers) for _ in range(N)]
    _, *responses = await asyncio.gather(meta.drain(), *posts)
    await meta.drain()  # anything a failed batch left for a retry
    assert all(r.status_code in (201, 422) for r in responses), [r.text for r in responses]
    for r in responses:
        if r.status_code == 422:
            assert r.json()["errors"] == {"phone": ["The phone has already been taken."]}
    (contact,) = await meta.contacts(line.workspace_id)
    assert contact.phone == f"+{CUSTOMER}"
    messages = await meta.messages(line.workspace_id)
    assert len(messages) == N
    assert {m.contact_id for m in messages} == {contact.id}
    assert await meta.count(Contact) == 1
