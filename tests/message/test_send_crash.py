"""A send whose server process is killed while Meta answers (issue 9.8), for real: a server
subprocess, SIGKILL, and the client's retry with the same ``Idempotency-Key`` through another
process. The retry goes through at once (the reservation's owner is gone), and the dead send
left nothing behind: no contact, no ``contacts.created``, no message."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.message.conftest import Messaging
from tests.servers import running_server
from xobito.models import Contact, Message, WebhookEvent
from xobito.testing.fake_graph import FakeGraphServer

NEW_PHONE = "+14155550199"
META_SECONDS = 8.0  # how long the fake Meta takes to answer the send that gets killed


async def counts(session: AsyncSession, workspace_id: int) -> dict[str, int]:
    await session.rollback()
    out = {}
    for name, model in (("contacts", Contact), ("messages", Message), ("events", WebhookEvent)):
        stmt = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
        out[name] = int(await session.scalar(stmt) or 0)
    created = (
        select(func.count())
        .select_from(WebhookEvent)
        .where(WebhookEvent.workspace_id == workspace_id, WebhookEvent.topic == "contacts.created")
    )
    out["contacts.created"] = int(await session.scalar(created) or 0)
    return out


async def until(condition: object, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)  # between polls only


@pytest.mark.parametrize("with_contact", [False, True], ids=["bare", "contact-object"])
async def test_a_send_killed_while_meta_answers_leaves_nothing_and_its_retry_goes_through(
    backend: Backend,
    messaging: Messaging,
    cloud: FakeGraphServer,
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin_headers: dict[str, str],
    with_contact: bool,
) -> None:
    ct = await messaging.cloud_tenant(enforce_care_window=False)
    t = ct.tenant
    # Someone listens, so a contact created would leave its event in the outbox.
    r = await client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/webhooks",
        json={"url": "https://hooks.example.com/xobito", "events": ["contacts.created"]},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    body: dict[str, object] = {"phone_number": NEW_PHONE, "message_body": "Your order shipped"}
    if with_contact:
        body["contact"] = {"firstname": "Ann", "groups": "vip"}
    headers = {**t.headers, "Idempotency-Key": "order-42-shipped"}
    cloud.latency_ms = META_SECONDS * 1000
    env = {"XOBITO_GRAPH_BASE_URL": cloud.base_url}
    with running_server(backend, ADMIN_KEY, env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as other:
            send = asyncio.create_task(
                other.post(t.url("/messages/send"), json=body, headers=headers)
            )
            await until(lambda: cloud.requests_to("messages"), 30, "the send to reach Meta")
            server.process.kill()  # SIGKILL while Meta is still answering
            server.process.wait(10)
            with pytest.raises(httpx.TransportError):
                await send
    assert await counts(session, t.workspace.id) == {
        "contacts": 0,
        "messages": 0,
        "events": 0,
        "contacts.created": 0,
    }
    # Meta finishes the killed request on its side (the customer may get it: Meta has no
    # idempotency); then the client retries, answered by another process at once.
    await until(lambda: len(cloud.sent) == 1, META_SECONDS + 30, "Meta to finish")
    cloud.latency_ms = 0
    r = await client.post(t.url("/messages/send"), json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert "idempotent-replayed" not in r.headers
    data = r.json()["data"]
    assert data["contact_created"] is True
    assert data["message_id"] == cloud.sent[-1].wamid
    assert await counts(session, t.workspace.id) == {
        "contacts": 1,
        "messages": 1,
        "events": 1,
        "contacts.created": 1,
    }
    contact = await messaging.contact(t, NEW_PHONE)
    assert contact is not None
    assert contact.firstname == ("Ann" if with_contact else NEW_PHONE)
    again = await client.post(t.url("/messages/send"), json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == r.content
