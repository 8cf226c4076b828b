"""Recipient resolution on send (docs/api/messages.md): auto-create, update, opt-out, plan limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging
from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
OPTED_OUT = {
    "status": "error",
    "message": "Validation failed",
    "errors": {"phone_number": ["The recipient has opted out of messages."]},
}
PLAN_LIMIT = {
    "status": "error",
    "message": "Contact limit exceeded for your current plan. Upgrade to add more contacts.",
}


@pytest.fixture
async def t(messaging: Messaging, cloud: FakeGraphServer) -> Tenant:
    """A cloud workspace without the care-window check, so new numbers can be messaged."""
    ct = await messaging.cloud_tenant(enforce_care_window=False)
    return ct.tenant


async def send(client: httpx.AsyncClient, t: Tenant, **fields: Any) -> httpx.Response:
    body = {"phone_number": PHONE, "message_body": "Hello", **fields}
    return await client.post(t.url("/messages/send"), json=body, headers=t.headers)


async def read_contact(client: httpx.AsyncClient, t: Tenant, contact_id: int) -> dict[str, Any]:
    r = await client.get(t.url(f"/contacts/{contact_id}"), headers=t.headers)
    assert r.status_code == 200, r.text
    record: dict[str, Any] = r.json()["data"]
    return record


async def test_unknown_number_creates_a_lead_named_after_the_phone(
    client: httpx.AsyncClient, t: Tenant, factory: Factory, cloud: FakeGraphServer
) -> None:
    await factory.status(t, "Other")
    default = await factory.status(t, "New lead", isdefault=True)
    r = await send(client, t, phone_number="+1 415-555-1234")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["contact_created"] is True
    assert data["phone"] == PHONE
    contact = await read_contact(client, t, data["contact_id"])
    assert contact["firstname"] == PHONE
    assert contact["lastname"] is None
    assert contact["type"] == "lead"
    assert contact["status_id"] == default.id
    assert contact["source_id"] is None
    assert contact["phone"] == PHONE
    assert (contact["is_enabled"], contact["is_opted_out"]) == (1, 0)
    assert len(cloud.sent) == 1


async def test_without_a_default_status_the_new_contact_has_none(
    client: httpx.AsyncClient, t: Tenant
) -> None:
    r = await send(client, t)
    assert r.status_code == 200, r.text
    contact = await read_contact(client, t, r.json()["data"]["contact_id"])
    assert contact["status_id"] is None


async def test_the_contact_object_fills_the_new_contact(
    client: httpx.AsyncClient, t: Tenant, factory: Factory
) -> None:
    vip = await factory.group(t, "VIP")
    given = {
        "firstname": "Ann",
        "lastname": "Lee",
        "email": "ann@example.com",
        "assigned_id": 7,
        "groups": "VIP, Newsletter ,",
    }
    r = await send(client, t, contact=given)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_created"] is True
    contact = await read_contact(client, t, r.json()["data"]["contact_id"])
    assert (contact["firstname"], contact["lastname"]) == ("Ann", "Lee")
    assert contact["email"] == "ann@example.com"
    assert contact["assigned_id"] == 7
    groups = await client.get(t.url("/groups"), headers=t.headers)
    ids = {g["name"]: g["id"] for g in groups.json()["data"]["data"]}
    assert set(ids) == {"VIP", "Newsletter"}
    assert ids["VIP"] == vip.id
    assert sorted(contact["group_id"]) == sorted(ids.values())


async def test_an_existing_contact_is_updated_by_the_contact_object(
    client: httpx.AsyncClient, t: Tenant, factory: Factory
) -> None:
    existing = await factory.contact(t, phone=PHONE, firstname="Old", lastname="Name")
    r = await send(
        client,
        t,
        phone_number="14155551234",
        contact={"lastname": "New", "email": "new@example.com", "groups": "Buyers"},
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["contact_created"], data["contact_id"]) == (False, existing["id"])
    contact = await read_contact(client, t, existing["id"])
    assert (contact["firstname"], contact["lastname"]) == ("Old", "New")
    assert contact["email"] == "new@example.com"
    assert len(contact["group_id"]) == 1
    # The other fields are left as they were.
    assert contact["status_id"] == existing["status_id"]
    assert contact["source_id"] == existing["source_id"]


async def test_an_existing_contact_is_left_alone_without_a_contact_object(
    client: httpx.AsyncClient, t: Tenant, factory: Factory
) -> None:
    existing = await factory.contact(t, phone=PHONE, firstname="Kept", email="k@example.com")
    r = await send(client, t)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_created"] is False
    contact = await read_contact(client, t, existing["id"])
    assert contact == existing | {"updated_at": contact["updated_at"]}


async def test_a_contact_email_taken_by_another_contact_is_422(
    client: httpx.AsyncClient, t: Tenant, factory: Factory, cloud: FakeGraphServer
) -> None:
    await factory.contact(t, phone="+14155559999", email="taken@example.com")
    r = await send(client, t, contact={"email": "taken@example.com"})
    assert r.status_code == 422
    assert r.json()["errors"] == {"contact.email": ["The contact.email has already been taken."]}
    assert cloud.requests == []


async def test_an_invalid_contact_object_is_422(
    client: httpx.AsyncClient, t: Tenant, cloud: FakeGraphServer
) -> None:
    r = await send(client, t, contact={"email": "nope", "firstname": "x" * 256})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "contact.firstname": ["The contact.firstname may not be greater than 255 characters."],
        "contact.email": ["The contact.email must be a valid email address."],
    }
    assert cloud.requests == []


async def test_an_opted_out_contact_is_422_and_meta_is_not_called(
    client: httpx.AsyncClient,
    t: Tenant,
    factory: Factory,
    messaging: Messaging,
    cloud: FakeGraphServer,
) -> None:
    existing = await factory.contact(t, phone=PHONE)
    await messaging.set_contact(existing["id"], is_opted_out=True)
    r = await send(client, t)
    assert r.status_code == 422
    assert r.json() == OPTED_OUT
    media = {"phone_number": PHONE, "media_type": "image", "media_url": "https://e.com/a.jpg"}
    r = await client.post(t.url("/messages/media"), json=media, headers=t.headers)
    assert r.status_code == 422
    assert r.json() == OPTED_OUT
    assert cloud.requests == []


async def test_auto_create_past_the_plan_limit_is_403(
    client: httpx.AsyncClient, messaging: Messaging, factory: Factory, cloud: FakeGraphServer
) -> None:
    ct = await messaging.cloud_tenant(enforce_care_window=False, max_contacts=1)
    t = ct.tenant
    existing = await factory.contact(t, phone="+14155559999")
    r = await send(client, t)
    assert r.status_code == 403
    assert r.json() == PLAN_LIMIT
    assert cloud.requests == []
    assert await messaging.contact(t, PHONE) is None
    # Sending to the contact that exists creates nothing and is allowed.
    r = await send(client, t, phone_number=existing["phone"])
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_created"] is False


async def test_inbound_messages_create_guests_even_past_the_plan_limit(
    client: httpx.AsyncClient, messaging: Messaging, factory: Factory, cloud: FakeGraphServer
) -> None:
    ct = await messaging.cloud_tenant(max_contacts=1)
    await factory.contact(ct.tenant, phone="+14155559999")
    await messaging.cloud_inbound(ct, PHONE)
    contact = await messaging.contact(ct.tenant, PHONE)
    assert contact is not None
    assert (contact.type, contact.firstname) == ("guest", "Customer")
    r = await send(client, ct.tenant)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_id"] == contact.id
