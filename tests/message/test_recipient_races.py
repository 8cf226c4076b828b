"""A send auto-creating its recipient while a POST /contacts creates the same number
(issue 9): the send uses whichever contact won, never answers 500."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging
from xobito.models import Contact

PHONE = "+14155551234"
N = 6


async def contact_body(factory: Factory, t: Tenant, **fields: Any) -> dict[str, Any]:
    status, source = await factory.status(t), await factory.source(t)
    return {
        "firstname": "Ann",
        "phone": PHONE,
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
        **fields,
    }


async def test_sends_and_creates_of_one_new_number_share_one_contact(
    client: httpx.AsyncClient, factory: Factory, messaging: Messaging
) -> None:
    t = await messaging.sandbox_tenant(enforce_care_window=False)
    body = await contact_body(factory, t)
    send = {"phone_number": PHONE, "message_body": "Hello"}
    with_contact = send | {"contact": {"firstname": "Bo", "groups": "vip, new"}}
    calls = [client.post(t.url("/contacts"), json=body, headers=t.headers) for _ in range(N)] + [
        client.post(t.url("/messages/send"), json=s, headers=t.headers)
        for s in [send, with_contact] * (N // 2)
    ]
    responses = await asyncio.gather(*calls)
    creates, sends = responses[:N], responses[N:]
    assert all(r.status_code == 200 for r in sends), [r.text for r in sends]
    assert all(r.status_code in (201, 422) for r in creates), [r.text for r in creates]
    for r in creates:
        if r.status_code == 422:
            assert r.json()["errors"] == {"phone": ["The phone has already been taken."]}
    created_by_send = sum(r.json()["data"]["contact_created"] for r in sends)
    created_by_post = sum(r.status_code == 201 for r in creates)
    assert created_by_send + created_by_post == 1
    (contact_id,) = {r.json()["data"]["contact_id"] for r in sends}
    assert await messaging.contact(t, PHONE) is not None
    await messaging.session.rollback()
    count = await messaging.session.scalar(
        select(func.count()).select_from(Contact).where(Contact.workspace_id == t.workspace.id)
    )
    assert count == 1
    record = (await client.get(t.url(f"/contacts/{contact_id}"), headers=t.headers)).json()
    assert record["data"]["phone"] == PHONE


async def test_send_creating_a_contact_with_an_email_taken_concurrently_is_422(
    client: httpx.AsyncClient, factory: Factory, messaging: Messaging
) -> None:
    t = await messaging.sandbox_tenant(enforce_care_window=False)
    body = await contact_body(factory, t, phone="+14155550000", email="ann@example.com")
    sends = [
        {
            "phone_number": f"+1415555{n:04d}",
            "message_body": "Hello",
            "contact": {"email": "ann@example.com"},
        }
        for n in range(1, N + 1)
    ]
    responses = await asyncio.gather(
        client.post(t.url("/contacts"), json=body, headers=t.headers),
        *(client.post(t.url("/messages/send"), json=s, headers=t.headers) for s in sends),
    )
    codes = [r.status_code for r in responses]
    assert sorted(codes).count(500) == 0, [r.text for r in responses]
    winners = [r for r in responses if r.status_code in (200, 201)]
    assert len(winners) == 1, [r.text for r in responses]
    for r in responses:
        if r.status_code == 422:
            taken = ["The email has already been taken."]
            assert r.json()["errors"] in (
                {"email": taken},
                {"contact.email": ["The contact.email has already been taken."]},
            ), r.text
