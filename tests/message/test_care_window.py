"""The 24-hour customer care window (docs/api/messages.md), with time travel through the
database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.message.conftest import CloudTenant, Messaging
from xobito.kit.time import utcnow
from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
TEXT = {"phone_number": PHONE, "message_body": "Hello"}
MEDIA = {"phone_number": PHONE, "media_type": "image", "media_url": "https://e.com/a.jpg"}
CLOSED = {
    "status": "error",
    "message": "Validation failed",
    "errors": {
        "phone_number": [
            "The 24-hour customer care window is closed for this recipient. "
            "Send an approved template instead."
        ]
    },
}


@pytest.fixture
async def ct(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    return await messaging.cloud_tenant()


async def post(
    client: httpx.AsyncClient, ct: CloudTenant, path: str, body: dict[str, Any]
) -> httpx.Response:
    t = ct.tenant
    return await client.post(t.url(path), json=body, headers=t.headers)


@pytest.mark.parametrize(("path", "body"), [("/messages/send", TEXT), ("/messages/media", MEDIA)])
async def test_open_window_sends(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    path: str,
    body: dict[str, Any],
) -> None:
    await messaging.cloud_inbound(ct, PHONE)
    r = await post(client, ct, path, body)
    assert r.status_code == 200, r.text
    assert len(cloud.sent) == 1


async def test_window_still_open_just_inside_24_hours(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    await messaging.cloud_inbound(ct, PHONE)
    await messaging.set_last_inbound(ct.tenant, PHONE, utcnow() - timedelta(hours=23, minutes=59))
    r = await post(client, ct, "/messages/send", TEXT)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("path", "body"), [("/messages/send", TEXT), ("/messages/media", MEDIA)])
async def test_closed_window_is_422_and_meta_is_not_called(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    path: str,
    body: dict[str, Any],
) -> None:
    await messaging.cloud_inbound(ct, PHONE)
    await messaging.set_last_inbound(ct.tenant, PHONE, utcnow() - timedelta(hours=25))
    r = await post(client, ct, path, body)
    assert r.status_code == 422
    assert r.json() == CLOSED
    assert cloud.requests == []
    assert [m.direction for m in await messaging.messages(ct.tenant)] == ["inbound"]


async def test_a_contact_who_never_wrote_is_422(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    factory: Factory,
) -> None:
    await factory.contact(ct.tenant, phone=PHONE)
    r = await post(client, ct, "/messages/send", TEXT)
    assert r.status_code == 422
    assert r.json() == CLOSED
    assert cloud.requests == []


async def test_an_unknown_number_is_422_and_no_contact_is_left_behind(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    r = await post(client, ct, "/messages/send", TEXT)
    assert r.status_code == 422
    assert r.json() == CLOSED
    assert cloud.requests == []
    assert await messaging.contact(ct.tenant, PHONE) is None


async def test_a_new_inbound_message_reopens_a_closed_window(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    await messaging.cloud_inbound(ct, PHONE)
    await messaging.set_last_inbound(ct.tenant, PHONE, utcnow() - timedelta(days=3))
    assert (await post(client, ct, "/messages/send", TEXT)).status_code == 422
    await messaging.cloud_inbound(ct, PHONE, "Back again")
    r = await post(client, ct, "/messages/send", TEXT)
    assert r.status_code == 200, r.text


async def test_workspace_setting_turns_the_check_off(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    await messaging.patch_workspace(ct.tenant, enforce_care_window=False)
    r = await post(client, ct, "/messages/send", TEXT)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_created"] is True
    assert len(cloud.sent) == 1
    await messaging.patch_workspace(ct.tenant, enforce_care_window=True)
    r = await post(client, ct, "/messages/send", TEXT)
    assert r.status_code == 422
    assert r.json() == CLOSED


async def test_sandbox_inbound_opens_the_window(
    client: httpx.AsyncClient, messaging: Messaging
) -> None:
    t = await messaging.sandbox_tenant()
    r = await client.post(t.url("/messages/send"), json=TEXT, headers=t.headers)
    assert r.status_code == 422
    await messaging.sandbox_inbound(t, PHONE)
    r = await client.post(t.url("/messages/send"), json=TEXT, headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_created"] is False


async def test_templates_are_allowed_outside_the_window(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    await messaging.template(ct.tenant, "reminder", body="See you soon.", body_examples=None)
    await messaging.cloud_inbound(ct, PHONE)
    await messaging.set_last_inbound(ct.tenant, PHONE, utcnow() - timedelta(hours=25))
    r = await post(
        client,
        ct,
        "/messages/template",
        {"phone_number": PHONE, "template_name": "reminder", "template_language": "en_US"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Template message sent successfully"
    [sent] = cloud.sent
    assert sent.body["type"] == "template"
