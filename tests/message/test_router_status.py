"""``GET /messages/{messageId}/status`` (docs/api/messages.md), fed by Meta's status webhooks
(docs/api/messages.md)."""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from tests.factories import Factory
from tests.message.conftest import CloudTenant, Messaging
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import EVERYONE
from xobito.kit.time import iso
from xobito.testing.fake_graph import FakeGraphServer
from xobito.whatsapp.webhooks import status_payload

PHONE = "+14155551234"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
STATUS_TEXTS = {
    "sent": "Message accepted by WhatsApp",
    "delivered": "Message delivered to recipient phone",
    "read": "Recipient opened/read the message",
    "failed": "Message delivery failed",
    "pending": "Message queued, not yet sent",
}
NOT_FOUND = {"status": "error", "message": "Message not found"}


@pytest.fixture
async def ct(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    ct = await messaging.cloud_tenant()
    await messaging.cloud_inbound(ct, PHONE)
    return ct


async def sent_wamid(client: httpx.AsyncClient, ct: CloudTenant) -> str:
    t = ct.tenant
    body = {"phone_number": PHONE, "message_body": "Hello"}
    r = await client.post(t.url("/messages/send"), json=body, headers=t.headers)
    assert r.status_code == 200, r.text
    wamid: str = r.json()["data"]["message_id"]
    return wamid


async def status_of(client: httpx.AsyncClient, ct: CloudTenant, wamid: str) -> httpx.Response:
    t = ct.tenant
    return await client.get(t.url(f"/messages/{wamid}/status"), headers=t.headers)


async def meta_status(
    messaging: Messaging, ct: CloudTenant, wamid: str, status: str, error_code: int | None = None
) -> None:
    """Meta's status webhook for ``wamid``, through the inbox and the worker."""
    body = status_payload(
        waba_id=ct.waba_id,
        phone_number_id=ct.number,
        wamid=wamid,
        status=status,
        recipient_id=PHONE.lstrip("+"),
        error_code=error_code,
    )
    async with messaging.app.state.sessionmaker() as s:
        await InboxRepository(s).add(orjson.dumps(body), EVERYONE)
        await s.commit()
    await messaging.app.state.worker.drain()


async def test_shape_of_a_sent_message(
    client: httpx.AsyncClient, ct: CloudTenant, messaging: Messaging
) -> None:
    wamid = await sent_wamid(client, ct)
    r = await status_of(client, ct, wamid)
    assert r.status_code == 200, r.text
    got = r.json()
    assert list(got) == ["status", "data"]  # no "message" on this endpoint
    assert got["status"] == "success"
    data = got["data"]
    assert list(data) == [
        "message_id",
        "delivery_status",
        "error_message",
        "source",
        "last_updated",
        "statuses",
    ]
    assert data["message_id"] == wamid
    assert data["delivery_status"] == "sent"
    assert data["error_message"] is None
    assert data["source"] == "chat"
    assert TIMESTAMP.match(data["last_updated"])
    assert data["statuses"] == STATUS_TEXTS


async def test_status_follows_meta_webhooks_forward_only(
    client: httpx.AsyncClient, ct: CloudTenant, messaging: Messaging
) -> None:
    wamid = await sent_wamid(client, ct)
    await meta_status(messaging, ct, wamid, "read")
    await meta_status(messaging, ct, wamid, "delivered")  # late: ignored
    data = (await status_of(client, ct, wamid)).json()["data"]
    assert data["delivery_status"] == "read"
    [stored] = [m for m in await messaging.messages(ct.tenant) if m.wamid == wamid]
    assert stored.read_at is not None and stored.delivered_at is not None
    assert data["last_updated"] >= iso(stored.read_at)


async def test_a_failed_status_reports_meta_error(
    client: httpx.AsyncClient, ct: CloudTenant, messaging: Messaging
) -> None:
    wamid = await sent_wamid(client, ct)
    await meta_status(messaging, ct, wamid, "failed", error_code=131049)
    data = (await status_of(client, ct, wamid)).json()["data"]
    assert data["delivery_status"] == "failed"
    assert data["error_message"] == "131049: Message undeliverable"


async def test_unknown_message_is_404(client: httpx.AsyncClient, ct: CloudTenant) -> None:
    r = await status_of(client, ct, "wamid.HBgLMTQxNTU1NTEyMzQVAgARGBI=")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_workspace_b_gets_404_for_workspace_a_message(
    client: httpx.AsyncClient, ct: CloudTenant, messaging: Messaging
) -> None:
    wamid = await sent_wamid(client, ct)
    other = await messaging.cloud_tenant()
    r = await status_of(client, other, wamid)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, ct: CloudTenant, factory: Factory
) -> None:
    wamid = await sent_wamid(client, ct)
    b = await factory.tenant()
    r = await client.get(b.url(f"/messages/{wamid}/status"), headers=ct.tenant.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_status_needs_messages_send(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(abilities=["templates.read"])
    r = await client.get(t.url("/messages/wamid.x/status"), headers=t.headers)
    assert r.status_code == 403
    assert r.json() == {
        "status": "error",
        "message": "Token does not have the required ability: messages.send",
    }
