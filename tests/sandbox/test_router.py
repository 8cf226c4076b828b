"""The sandbox provider end to end (docs/api/messages.md) and its admin simulation routes
(docs/api/admin.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging
from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
UNDELIVERABLE = "+14155550000"
NOT_FOUND = {"status": "error", "message": "Message not found"}


def admin_url(t: Tenant, path: str) -> str:
    return f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox{path}"


async def send(client: httpx.AsyncClient, t: Tenant, phone: str = PHONE) -> httpx.Response:
    body = {"phone_number": phone, "message_body": "Hello"}
    return await client.post(t.url("/messages/send"), json=body, headers=t.headers)


async def status(client: httpx.AsyncClient, t: Tenant, wamid: str) -> dict[str, Any]:
    r = await client.get(t.url(f"/messages/{wamid}/status"), headers=t.headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


@pytest.fixture
def slow_sandbox(app: FastAPI) -> Iterator[None]:
    """Simulated statuses an hour apart, so a test sees the message before they arrive."""
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"sandbox_status_delay_seconds": 3600})
    yield
    app.state.settings = settings


async def test_a_send_succeeds_then_moves_to_read_through_the_worker(
    client: httpx.AsyncClient, messaging: Messaging, app: FastAPI
) -> None:
    t = await messaging.sandbox_tenant()
    await messaging.sandbox_inbound(t, PHONE)
    r = await send(client, t)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    wamid = data["message_id"]
    assert wamid.startswith("wamid.")
    assert data["status"] == "sent"
    assert data["whatsapp_response"] == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "14155551234", "wa_id": "14155551234"}],
        "messages": [{"id": wamid}],
    }
    await app.state.worker.drain()
    got = await status(client, t, wamid)
    assert (got["delivery_status"], got["error_message"]) == ("read", None)
    [stored] = [m for m in await messaging.messages(t) if m.wamid == wamid]
    assert stored.sent_at is not None
    assert stored.delivered_at is not None
    assert stored.read_at is not None
    # Meta's status timestamps are whole unix seconds.
    assert stored.sent_at.replace(microsecond=0) <= stored.delivered_at <= stored.read_at


async def test_statuses_wait_for_their_time(
    client: httpx.AsyncClient, messaging: Messaging, app: FastAPI, slow_sandbox: None
) -> None:
    t = await messaging.sandbox_tenant(enforce_care_window=False)
    wamid = (await send(client, t)).json()["data"]["message_id"]
    await app.state.worker.drain()
    assert (await status(client, t, wamid))["delivery_status"] == "sent"


async def test_numbers_ending_in_0000_fail_with_131026(
    client: httpx.AsyncClient, messaging: Messaging
) -> None:
    t = await messaging.sandbox_tenant(enforce_care_window=False)
    r = await send(client, t, UNDELIVERABLE)
    assert r.status_code == 500
    assert r.json() == {
        "status": "error",
        "message": "Failed to send message",
        "errors": {"whatsapp": ["131026: Message undeliverable"]},
    }
    [stored] = await messaging.messages(t)
    assert (stored.status, stored.error_code, stored.wamid) == ("failed", 131026, None)


async def test_the_sandbox_never_calls_meta(
    client: httpx.AsyncClient, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    t = await messaging.sandbox_tenant(enforce_care_window=False)
    assert (await send(client, t)).status_code == 200
    assert cloud.requests == []


async def test_inbound_creates_a_guest_and_a_received_message(
    client: httpx.AsyncClient, messaging: Messaging, admin_headers: dict[str, str], app: FastAPI
) -> None:
    t = await messaging.sandbox_tenant()
    body = {"phone_number": PHONE, "text": "Hi there", "profile_name": "Ann"}
    r = await client.post(admin_url(t, "/inbound"), json=body, headers=admin_headers)
    assert r.status_code == 202, r.text
    got = r.json()
    assert (got["status"], got["message"]) == ("success", "Inbound message queued")
    assert got["data"]["phone"] == PHONE
    assert got["data"]["message_id"].startswith("wamid.")
    await app.state.worker.drain()
    contact = await messaging.contact(t, PHONE)
    assert contact is not None
    assert (contact.type, contact.firstname) == ("guest", "Ann")
    [stored] = await messaging.messages(t)
    assert (stored.direction, stored.text, stored.wamid) == (
        "inbound",
        "Hi there",
        got["data"]["message_id"],
    )


async def test_inbound_button_reply(
    client: httpx.AsyncClient, messaging: Messaging, admin_headers: dict[str, str], app: FastAPI
) -> None:
    t = await messaging.sandbox_tenant()
    body = {"phone_number": PHONE, "button_reply": {"id": "yes", "title": "Yes"}}
    r = await client.post(admin_url(t, "/inbound"), json=body, headers=admin_headers)
    assert r.status_code == 202, r.text
    await app.state.worker.drain()
    [stored] = await messaging.messages(t)
    assert (stored.type, stored.text) == ("interactive", "Yes")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"phone_number": PHONE},
            {"text": ["The text field is required when button reply is not present."]},
        ),
        ({"text": "Hi"}, {"phone_number": ["The phone number field is required."]}),
        (
            {"phone_number": PHONE, "text": "a\x00"},
            {"text": ["The text must not contain null characters."]},
        ),
        (
            {"phone_number": "12", "text": "Hi"},
            {"phone_number": ["The phone number format is invalid."]},
        ),
    ],
)
async def test_inbound_validation(
    client: httpx.AsyncClient,
    factory: Factory,
    admin_headers: dict[str, str],
    body: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    t = await factory.tenant()
    r = await client.post(admin_url(t, "/inbound"), json=body, headers=admin_headers)
    assert r.status_code == 422
    assert r.json()["errors"] == errors


async def test_simulation_is_refused_for_a_cloud_workspace(
    client: httpx.AsyncClient, messaging: Messaging, admin_headers: dict[str, str]
) -> None:
    ct = await messaging.cloud_tenant()
    body = {"phone_number": PHONE, "text": "Hi"}
    r = await client.post(admin_url(ct.tenant, "/inbound"), json=body, headers=admin_headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {"whatsapp": ["This workspace is not in sandbox mode."]}


async def test_a_simulated_failure_status(
    client: httpx.AsyncClient,
    messaging: Messaging,
    admin_headers: dict[str, str],
    app: FastAPI,
    slow_sandbox: None,
) -> None:
    t = await messaging.sandbox_tenant(enforce_care_window=False)
    wamid = (await send(client, t)).json()["data"]["message_id"]
    body = {"message_id": wamid, "status": "failed", "error_code": 131049}
    r = await client.post(admin_url(t, "/status"), json=body, headers=admin_headers)
    assert r.status_code == 202, r.text
    assert r.json() == {
        "status": "success",
        "message": "Status queued",
        "data": {"message_id": wamid, "status": "failed"},
    }
    await app.state.worker.drain()
    got = await status(client, t, wamid)
    assert (got["delivery_status"], got["error_message"]) == (
        "failed",
        "131049: Message undeliverable",
    )


async def test_simulated_status_validation(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    r = await client.post(
        admin_url(t, "/status"), json={"message_id": "x", "status": "seen"}, headers=admin_headers
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"status": ["The selected status is invalid."]}


async def test_workspace_b_gets_404_for_workspace_a_message(
    client: httpx.AsyncClient, messaging: Messaging, admin_headers: dict[str, str]
) -> None:
    a = await messaging.sandbox_tenant(enforce_care_window=False)
    b = await messaging.sandbox_tenant()
    wamid = (await send(client, a)).json()["data"]["message_id"]
    body = {"message_id": wamid, "status": "read"}
    r = await client.post(admin_url(b, "/status"), json=body, headers=admin_headers)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    r = await client.get(b.url(f"/messages/{wamid}/status"), headers=b.headers)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await send(client, Tenant(b.workspace, a.token, a.token_id))
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_admin_routes_need_the_admin_key(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant()
    body = {"phone_number": PHONE, "text": "Hi"}
    r = await client.post(admin_url(t, "/inbound"), json=body, headers=t.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid admin key"}
