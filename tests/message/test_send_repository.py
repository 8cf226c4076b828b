"""The send hot path's storage (``SendRepository``, ``driver_connection``).

On PostgreSQL a send stores its outcome in one statement on a driver connection, with the
answer for its ``Idempotency-Key`` when it has one; SQLite writes the same rows through the
session, and the request boundary stores the answer. Every test runs on both.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.backends import Backend
from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging
from xobito.app import create_app
from xobito.config import Settings
from xobito.kit.db import dispose_engine, driver_connection
from xobito.models import Chat, Job, LiveEvent, Message, WebhookDelivery, WebhookEvent

IGNORED = {"id", "wamid", "created_at", "updated_at", "sent_at", "response", "payload"}


def columns(row: Any, ignored: set[str] = IGNORED) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in ignored}


async def subscribe(client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]) -> int:
    r = await client.post(
        f"/api/admin/workspaces/{tenant.workspace.subdomain}/webhooks",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["data"]["id"])


async def test_keyed_and_unkeyed_sends_store_the_same_rows(
    client: httpx.AsyncClient,
    messaging: Messaging,
    session: AsyncSession,
    admin_headers: dict[str, str],
) -> None:
    tenant = await messaging.sandbox_tenant(enforce_care_window=False)
    endpoint_id = await subscribe(client, tenant, admin_headers)
    body = {"phone_number": "+14155550101", "message_body": "Same rows"}
    plain = await client.post(tenant.url("/messages/send"), json=body, headers=tenant.headers)
    keyed = await client.post(
        tenant.url("/messages/send"),
        json=body,
        headers={**tenant.headers, "Idempotency-Key": "same-rows"},
    )
    assert plain.status_code == keyed.status_code == 200, (plain.text, keyed.text)
    first, second = await messaging.messages(tenant)
    assert first.wamid == plain.json()["data"]["message_id"]
    assert second.wamid == keyed.json()["data"]["message_id"]
    assert columns(first) == columns(second)
    assert first.status == "sent" and first.direction == "outbound"
    assert first.payload == second.payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "14155550101",
        "type": "text",
        "text": {"preview_url": False, "body": "Same rows"},
    }
    assert first.updated_at == first.created_at and first.sent_at is not None

    # One chat, touched by both sends; one outbox event and one delivery per send.
    chat = await session.scalar(select(Chat).where(Chat.id == first.chat_id))
    assert chat is not None and chat.last_message_at is not None
    assert chat.last_message_at >= second.sent_at  # type: ignore[operator]
    events = list(await session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))
    sent = [e for e in events if e.event == "message.sent"]
    assert [columns(e, {"id", "event_id", "body", "created_at", "message_id"}) for e in sent] == [
        {"workspace_id": tenant.workspace.id, "event": "message.sent", "topic": "message.sent"}
    ] * 2
    assert sent[0].event_id != sent[1].event_id
    assert [e.message_id for e in sent] == [first.id, second.id]  # the timeline's link
    # Each send told the open pages, with the next id of the workspace's counter.
    live = list(await session.scalars(select(LiveEvent).order_by(LiveEvent.id)))
    assert [(e.id, e.kind, e.chat_id, e.message_id) for e in live] == [
        (1, "message", first.chat_id, first.id),
        (2, "message", first.chat_id, second.id),
    ]
    assert first.token_id == second.token_id == tenant.token_id
    deliveries = list(
        await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_id.in_([e.id for e in sent]))
        )
    )
    assert sorted((d.endpoint_id, d.state, d.attempts) for d in deliveries) == [
        (endpoint_id, "pending", 0)
    ] * 2

    # Sandbox: each send queued its three simulated statuses.
    jobs = list(await session.scalars(select(Job).order_by(Job.id)))
    by_wamid: dict[str, list[str]] = {}
    for job in jobs:
        by_wamid.setdefault(job.payload["wamid"], []).append(job.payload["status"])
    assert by_wamid == {
        first.wamid: ["sent", "delivered", "read"],
        second.wamid: ["sent", "delivered", "read"],
    }

    # The keyed send's answer was stored with it, and a retry replays it to the byte.
    again = await client.post(
        tenant.url("/messages/send"),
        json=body,
        headers={**tenant.headers, "Idempotency-Key": "same-rows"},
    )
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == keyed.content
    assert len(await messaging.messages(tenant)) == 2


async def test_a_refused_keyed_send_is_stored_once_and_replayed(
    client: httpx.AsyncClient, messaging: Messaging
) -> None:
    """Meta refuses (sandbox: numbers ending 0000): the failed attempt and its 500 are kept
    together; a retry with the key replays the 500 and Meta is not asked again."""
    tenant = await messaging.sandbox_tenant(enforce_care_window=False)
    body = {"phone_number": "+14155550000", "message_body": "Refused"}
    headers = {**tenant.headers, "Idempotency-Key": "refused-1"}
    first = await client.post(tenant.url("/messages/send"), json=body, headers=headers)
    assert first.status_code == 500
    assert first.json()["errors"] == {"whatsapp": ["131026: Message undeliverable"]}
    again = await client.post(tenant.url("/messages/send"), json=body, headers=headers)
    assert again.status_code == 500 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    [stored] = await messaging.messages(tenant)
    assert (stored.status, stored.error_code, stored.wamid) == ("failed", 131026, None)


async def test_a_burst_larger_than_the_pool_completes(
    settings: Settings, factory: Factory, session: AsyncSession
) -> None:
    """Every request of a burst may hold its session's connection (cold auth caches) when it
    reaches the hot path: it must use that connection, not wait for a second one."""
    small = create_app(settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 0}))
    tenant = await factory.tenant(enforce_care_window=False)
    transport = httpx.ASGITransport(app=small, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            small.state.authenticator.tokens.clear()

            async def one(i: int) -> int:
                # (+1415555 plus 4 digits: a number ending in 0000 fails in the sandbox)
                body = {"phone_number": f"+1415555{i + 1:04d}", "message_body": f"Burst {i}"}
                r = await c.post(tenant.url("/messages/send"), json=body, headers=tenant.headers)
                return r.status_code

            statuses = await asyncio.gather(*(one(i) for i in range(12)))
    finally:
        await dispose_engine(small.state.engine)
    assert statuses == [200] * 12
    stored = await session.scalars(
        select(Message.text).where(Message.workspace_id == tenant.workspace.id)
    )
    assert sorted(stored) == sorted(f"Burst {i}" for i in range(12))


async def test_a_lost_connection_is_discarded(app: FastAPI, backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("the driver connection exists on PostgreSQL only")
    small = create_app(
        app.state.settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 0})
    )
    try:
        async with small.state.sessionmaker() as s:
            with pytest.raises(Exception) as lost:
                async with driver_connection(s) as driver:
                    assert driver is not None
                    await driver.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            assert "connection" in repr(lost.value).lower()
        # The send path's only connection was discarded, not lent again: a new one works.
        async with small.state.sessionmaker() as s, driver_connection(s) as driver:
            assert await driver.fetchval("SELECT 41 + 1") == 42
    finally:
        await dispose_engine(small.state.engine)
