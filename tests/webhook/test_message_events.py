"""Message events (docs/webhooks.md) from a sandbox workspace: received, sent, delivered, read,
failed,
and the contacts the messaging paths create or change."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.factories import Factory, Tenant
from tests.webhook.conftest import Hit, Hooks, Receiver

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
PHONE = "+14155550123"


async def inbound(
    client: httpx.AsyncClient, hooks: Hooks, t: Tenant, phone: str = PHONE, **body: Any
) -> str:
    """A customer writes (opens the care window); returns the inbound wamid."""
    r = await client.post(
        f"{hooks.base(t)}/sandbox/inbound",
        json={"phone_number": phone, "text": "Hello", "profile_name": "Grace", **body},
        headers=hooks.admin,
    )
    assert r.status_code == 202, r.text
    await hooks.app.state.worker.drain()
    wamid: str = r.json()["data"]["message_id"]
    return wamid


async def send(client: httpx.AsyncClient, t: Tenant, phone: str = PHONE, **body: Any) -> Any:
    return await client.post(
        t.url("/messages/send"),
        json={"phone_number": phone, "message_body": "Hi there", **body},
        headers=t.headers,
    )


def message_event(hit: Hit, name: str) -> dict[str, Any]:
    body = hit.json
    assert set(body) == {"event", "model", "data", "timestamp"}
    assert body["event"] == name
    assert body["model"] == "WhatsAppMessage"
    assert STAMP.match(body["timestamp"])
    assert hit.headers["X-Webhook-Event"] == name
    assert hit.headers["Content-Type"] == "application/json"
    data: dict[str, Any] = body["data"]
    return data


def named(receiver: Receiver, path: str, name: str) -> list[Hit]:
    return [h for h in receiver.at(path) if h.json["event"] == name]


async def test_received_sent_delivered_read_payloads(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/m")
    wamid_in = await inbound(client, hooks, t)
    r = await send(client, t)
    assert r.status_code == 200, r.text
    sent = r.json()["data"]
    await hooks.app.state.worker.drain()  # sandbox statuses: sent (no change), delivered, read
    await hooks.deliver()

    (received,) = named(receiver, "/m", "message.received")
    data = message_event(received, "message.received")
    received_at = data.pop("received_at")
    assert STAMP.match(received_at)
    assert data == {
        "message_id": wamid_in,
        "tenant_id": t.workspace.id,
        "contact_id": sent["contact_id"],
        "phone": PHONE,
        "type": "text",
        "text": "Hello",
        "button_reply": None,
        "media": None,
        "context_message_id": None,
    }
    common = {
        "message_id": sent["message_id"],
        "error_message": None,
        "tenant_id": t.workspace.id,
        "contact_id": sent["contact_id"],
        "phone": PHONE,
        "text": "Hi there",
    }
    (s,) = named(receiver, "/m", "message.sent")
    assert message_event(s, "message.sent") == {**common, "status": "sent", "type": "text"}
    (d,) = named(receiver, "/m", "message.delivered")
    assert message_event(d, "message.delivered") == {**common, "status": "delivered"}
    (rd,) = named(receiver, "/m", "message.read")
    assert message_event(rd, "message.read") == {**common, "status": "read"}
    order = [h.json["event"] for h in receiver.at("/m") if h.json["event"].startswith("message.")]
    assert order == ["message.received", "message.sent", "message.delivered", "message.read"]


async def test_a_button_reply_is_in_the_received_payload(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/m", events=["message.received"])
    await inbound(client, hooks, t, text=None, button_reply={"id": "yes-1", "title": "Yes"})
    await hooks.deliver()
    (hit,) = receiver.at("/m")
    data = message_event(hit, "message.received")
    assert data["button_reply"] == {"id": "yes-1", "title": "Yes"}


async def test_a_refused_send_emits_message_failed(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/m", events=["message.failed", "message.sent"])
    phone = "+14155550000"  # the sandbox refuses numbers ending in 0000 (Meta error 131026)
    await inbound(client, hooks, t, phone)
    r = await send(client, t, phone)
    assert r.status_code == 500, r.text
    await hooks.deliver()
    (hit,) = receiver.at("/m")
    data = message_event(hit, "message.failed")
    assert data["status"] == "failed"
    assert data["phone"] == phone
    assert data["text"] == "Hi there"
    assert data["error_message"] and "131026" in data["error_message"]
    assert "type" not in data


async def test_a_failed_status_emits_message_failed_with_the_error(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/m", events=["message.failed"])
    await inbound(client, hooks, t)
    wamid = (await send(client, t)).json()["data"]["message_id"]
    r = await client.post(
        f"{hooks.base(t)}/sandbox/status",
        json={"message_id": wamid, "status": "failed", "error_code": 131047},
        headers=hooks.admin,
    )
    assert r.status_code == 202, r.text
    await hooks.app.state.worker.drain()
    await hooks.deliver()
    (hit,) = receiver.at("/m")
    data = message_event(hit, "message.failed")
    assert data["message_id"] == wamid
    assert data["status"] == "failed"
    assert data["error_message"].startswith("131047")


async def test_each_applied_status_emits_exactly_once(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    """Duplicated and regressing statuses (docs/api/messages.md) emit nothing more."""
    t = await factory.tenant()
    await hooks.endpoint(t, "/m", events=["message.delivered", "message.read"])
    await inbound(client, hooks, t)
    wamid = (await send(client, t)).json()["data"]["message_id"]
    await hooks.app.state.worker.drain()
    for status in ("delivered", "read", "delivered"):
        await client.post(
            f"{hooks.base(t)}/sandbox/status",
            json={"message_id": wamid, "status": status},
            headers=hooks.admin,
        )
    await hooks.app.state.worker.drain()
    await hooks.deliver()
    assert [h.json["event"] for h in receiver.at("/m")] == ["message.delivered", "message.read"]


async def test_a_contact_auto_created_by_an_inbound_message_emits_contacts_created(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/c", events=["contacts.created"])
    await inbound(client, hooks, t)
    await hooks.deliver()
    (hit,) = receiver.at("/c")
    attributes = hit.json["data"]["attributes"]
    shown = await client.get(t.url(f"/contacts/{attributes['id']}"), headers=t.headers)
    assert attributes == shown.json()["data"]
    assert attributes["type"] == "guest"
    assert attributes["firstname"] == "Grace"
    assert hit.json["original"] is None


async def test_a_contact_auto_created_or_changed_by_a_send_emits_contact_events(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant(enforce_care_window=False)
    await hooks.endpoint(t, "/c", events=["contacts.created", "contacts.updated"])
    r = await send(client, t, contact={"firstname": "Alan"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_created"] is True
    r = await send(client, t, contact={"firstname": "Alan", "lastname": "Turing"})
    assert r.status_code == 200, r.text
    r = await send(client, t, contact={"firstname": "Alan", "lastname": "Turing"})  # no change
    await hooks.deliver()
    created, updated = receiver.at("/c")
    assert created.json["event"] == "created"
    assert created.json["data"]["attributes"]["firstname"] == "Alan"
    assert updated.json["event"] == "updated"
    assert updated.json["original"]["lastname"] is None
    assert updated.json["data"]["attributes"]["lastname"] == "Turing"
    cid = created.json["data"]["id"]
    shown = await client.get(t.url(f"/contacts/{cid}"), headers=t.headers)
    assert updated.json["data"]["attributes"] == shown.json()["data"]
