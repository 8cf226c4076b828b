"""``POST /messages/send`` (docs/api/messages.md): validation, what reaches Meta, the response."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant
from tests.message.conftest import ACCESS_TOKEN, CloudTenant, Messaging
from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SEND_KEYS = [
    "message_id",
    "contact_id",
    "phone",
    "message",
    "status",
    "sent_at",
    "chat_id",
    "contact_created",
    "whatsapp_response",
]


def body(**fields: Any) -> dict[str, Any]:
    return {"phone_number": PHONE, "message_body": "Hello", **fields}


def buttons(n: int) -> list[dict[str, str]]:
    return [{"id": f"b{i}", "title": f"Button {i}"} for i in range(n)]


async def send(client: httpx.AsyncClient, t: Tenant, payload: Any) -> httpx.Response:
    return await client.post(t.url("/messages/send"), json=payload, headers=t.headers)


@pytest.fixture
async def ready(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    """A cloud workspace whose customer ``PHONE`` wrote a minute ago (window open)."""
    ct = await messaging.cloud_tenant()
    await messaging.cloud_inbound(ct, PHONE)
    return ct


# ---- validation (docs/api/errors.md, docs/api/messages.md) ---

VALID = [
    body(message_body="x" * 4096),
    body(message_type="interactive", header="h" * 60, footer="f" * 60, buttons=buttons(1)),
    body(message_type="interactive", buttons=buttons(3)),
    body(message_type="interactive", buttons=[{"id": "i" * 256, "title": "t" * 20}]),
    body(message_type="cta_url", button_text="b" * 20, button_url="http://example.com/a"),
]


@pytest.mark.parametrize("payload", VALID, ids=range(len(VALID)))
async def test_values_at_the_limits_are_sent(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer, payload: dict[str, Any]
) -> None:
    r = await send(client, ready.tenant, payload)
    assert r.status_code == 200, r.text
    assert len(cloud.sent) == 1
    assert cloud.schema_violations == []


INVALID = [
    (
        body(message_body="x" * 4097),
        "message_body",
        "The message body may not be greater than 4096 characters.",
    ),
    (body(header="h" * 61), "header", "The header may not be greater than 60 characters."),
    (body(footer="f" * 61), "footer", "The footer may not be greater than 60 characters."),
    (
        body(message_type="interactive", buttons=[]),
        "buttons",
        "The buttons must have at least 1 items.",
    ),
    (
        body(message_type="interactive", buttons=buttons(4)),
        "buttons",
        "The buttons may not have more than 3 items.",
    ),
    (
        body(message_type="interactive", buttons=[{"id": "a", "title": "t" * 21}]),
        "buttons.0.title",
        "The buttons.0.title may not be greater than 20 characters.",
    ),
    (
        body(message_type="interactive", buttons=[{"id": "i" * 257, "title": "t"}]),
        "buttons.0.id",
        "The buttons.0.id may not be greater than 256 characters.",
    ),
    (
        body(message_type="interactive", buttons=[{"id": "a", "title": "A"}] * 2),
        "buttons.1.id",
        "The buttons.1.id field has a duplicate value.",
    ),
    (
        body(message_type="interactive"),
        "buttons",
        "The buttons field is required when message type is interactive.",
    ),
    (
        body(message_type="cta_url", button_text="b" * 21, button_url="https://e.com"),
        "button_text",
        "The button text may not be greater than 20 characters.",
    ),
    (
        body(message_type="cta_url", button_text="Open", button_url="ftp://example.com/f"),
        "button_url",
        "The button url format is invalid.",
    ),
    (
        body(message_type="cta_url", button_text="Open"),
        "button_url",
        "The button url field is required when message type is cta_url.",
    ),
    (
        body(message_type="cta_url", button_url="https://example.com"),
        "button_text",
        "The button text field is required when message type is cta_url.",
    ),
    (
        body(buttons=buttons(1), button_text="Open", button_url="https://example.com"),
        "buttons",
        "A message may not carry both reply buttons and a URL button.",
    ),
    (body(phone_number="12"), "phone_number", "The phone number format is invalid."),
    (body(phone_number="+1 415 abc"), "phone_number", "The phone number format is invalid."),
    ({"message_body": "Hi"}, "phone_number", "The phone number field is required."),
    ({"phone_number": PHONE}, "message_body", "The message body field is required."),
    (body(message_type="sticker"), "message_type", "The selected message type is invalid."),
    (body(message_body=5), "message_body", "The message body must be a string."),
    (
        body(message_body="a\x00b"),
        "message_body",
        "The message body must not contain null characters.",
    ),
    (
        body(contact={"firstname": "A\x00"}),
        "contact.firstname",
        "The contact.firstname must not contain null characters.",
    ),
]


@pytest.mark.parametrize(("payload", "field", "message"), INVALID, ids=range(len(INVALID)))
async def test_each_rule_answers_422_with_its_message_and_nothing_is_sent(
    client: httpx.AsyncClient,
    ready: CloudTenant,
    cloud: FakeGraphServer,
    payload: dict[str, Any],
    field: str,
    message: str,
) -> None:
    r = await send(client, ready.tenant, payload)
    assert r.status_code == 422, r.text
    got = r.json()
    assert got["status"] == "error" and got["message"] == "Validation failed"
    assert got["errors"] == {field: [message]}
    assert cloud.requests_to("messages") == []


async def test_every_failing_field_is_reported_at_once(
    client: httpx.AsyncClient, ready: CloudTenant
) -> None:
    r = await send(client, ready.tenant, {"message_type": "cta_url", "header": "h" * 61})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "phone_number": ["The phone number field is required."],
        "message_body": ["The message body field is required."],
        "header": ["The header may not be greater than 60 characters."],
        "button_text": ["The button text field is required when message type is cta_url."],
        "button_url": ["The button url field is required when message type is cta_url."],
    }


# ---- what reaches Meta, and the answer (docs/api/messages.md) ---


async def test_text_send_reaches_meta_and_answers_the_spec_shape(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    r = await send(client, ready.tenant, body(phone_number="+1 (415) 555-1234"))
    assert r.status_code == 200, r.text
    got = r.json()
    assert list(got) == ["status", "message", "data"]
    assert got["status"] == "success" and got["message"] == "Message sent successfully"
    data = got["data"]
    assert list(data) == SEND_KEYS
    [sent] = cloud.sent
    [request] = cloud.requests_to("messages")
    assert request.path == f"/v23.0/{ready.number}/messages"
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "14155551234",
        "type": "text",
        "text": {"body": "Hello", "preview_url": False},
    }
    contact = await messaging.contact(ready.tenant, PHONE)
    assert contact is not None
    assert data["message_id"] == sent.wamid
    assert data["contact_id"] == contact.id
    assert data["phone"] == PHONE
    assert data["message"] == "Hello"
    assert data["status"] == "sent"
    assert TIMESTAMP.match(data["sent_at"])
    assert isinstance(data["chat_id"], int)
    assert data["contact_created"] is False  # the inbound message created the contact
    assert data["whatsapp_response"] == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "14155551234", "wa_id": "14155551234"}],
        "messages": [{"id": sent.wamid}],
    }
    assert cloud.schema_violations == []
    [_inbound, stored] = await messaging.messages(ready.tenant)
    assert (stored.direction, stored.type, stored.status) == ("outbound", "text", "sent")
    assert (stored.wamid, stored.text, stored.chat_id) == (sent.wamid, "Hello", data["chat_id"])
    assert stored.phone_number_id == ready.number
    assert stored.sent_at is not None and stored.error_message is None


async def test_interactive_send_uses_reply_buttons_header_and_footer(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer
) -> None:
    payload = body(
        message_type="interactive",
        message_body="Pick one",
        header="Choose",
        footer="Thanks",
        buttons=[{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
    )
    r = await send(client, ready.tenant, payload)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["message"] == "Pick one"
    [sent] = cloud.sent
    assert sent.body["type"] == "interactive"
    assert sent.body["interactive"] == {
        "type": "button",
        "header": {"type": "text", "text": "Choose"},
        "body": {"text": "Pick one"},
        "footer": {"text": "Thanks"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
            ]
        },
    }
    assert cloud.schema_violations == []


async def test_cta_url_send_uses_a_url_button(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer
) -> None:
    payload = body(
        message_type="cta_url",
        message_body="See your order",
        footer="Shop",
        button_text="Open",
        button_url="https://shop.example.com/o/1",
    )
    r = await send(client, ready.tenant, payload)
    assert r.status_code == 200, r.text
    [sent] = cloud.sent
    assert sent.body["type"] == "interactive"
    assert sent.body["interactive"] == {
        "type": "cta_url",
        "body": {"text": "See your order"},
        "footer": {"text": "Shop"},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "Open", "url": "https://shop.example.com/o/1"},
        },
    }
    assert cloud.schema_violations == []


# ---- idempotency, authentication, workspaces -----------------------------------------------


async def test_a_retried_send_with_the_same_key_reaches_meta_once(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    t = ready.tenant
    headers = {**t.headers, "Idempotency-Key": "send-1"}
    first = await client.post(t.url("/messages/send"), json=body(), headers=headers)
    second = await client.post(t.url("/messages/send"), json=body(), headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert len(cloud.requests_to("messages")) == 1
    assert len([m for m in await messaging.messages(t) if m.direction == "outbound"]) == 1


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory, cloud: FakeGraphServer
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.post(b.url("/messages/send"), json=body(), headers=a.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_token_without_messages_send_is_403(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(abilities=["contacts.read"])
    r = await send(client, t, body())
    assert r.status_code == 403
    assert r.json() == {
        "status": "error",
        "message": "Token does not have the required ability: messages.send",
    }


async def test_workspace_b_gets_404_for_workspace_a_message(
    client: httpx.AsyncClient, ready: CloudTenant, factory: Factory
) -> None:
    r = await send(client, ready.tenant, body())
    wamid = r.json()["data"]["message_id"]
    b = await factory.tenant()
    got = await client.get(b.url(f"/messages/{wamid}/status"), headers=b.headers)
    assert got.status_code == 404
    assert got.json() == {"status": "error", "message": "Message not found"}


async def test_malformed_json_is_422(client: httpx.AsyncClient, ready: CloudTenant) -> None:
    t = ready.tenant
    r = await client.post(
        t.url("/messages/send"),
        content=b"{not json",
        headers={**t.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"body": ["The request body must be valid JSON."]}
