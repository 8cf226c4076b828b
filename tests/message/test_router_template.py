"""``POST /messages/template`` (docs/api/messages.md): variables, header media, buttons, what Meta
gets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.message.conftest import CloudTenant, Messaging
from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
NOT_AVAILABLE = {"template_name": ["The selected template is not available or not approved."]}
KB = 1024
BUTTONS = [
    {"type": "URL", "text": "Track", "url": "https://shop.example.com/track/{{1}}"},
    {"type": "QUICK_REPLY", "text": "Stop"},
]


@pytest.fixture
async def ct(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    """A cloud workspace with stored templates; nobody wrote to it (templates need no window)."""
    ct = await messaging.cloud_tenant()
    t = ct.tenant
    await messaging.template(
        t,
        "order_confirmation",
        header={"format": "TEXT", "text": "Order {{1}}"},
        footer="Thanks",
        buttons=BUTTONS,
    )
    await messaging.template(t, "promo_image", header={"format": "IMAGE"}, body="Hi {{1}}")
    await messaging.template(
        t, "promo_video", header={"format": "VIDEO"}, body="Watch this.", body_examples=None
    )
    await messaging.template(
        t, "invoice", header={"format": "DOCUMENT"}, body="Your invoice.", body_examples=None
    )
    await messaging.template(t, "draft", status="PENDING", body="Soon.", body_examples=None)
    return ct


def order(**fields: Any) -> dict[str, Any]:
    return {
        "phone_number": PHONE,
        "template_name": "order_confirmation",
        "template_language": "en_US",
        "header_field_1": "#42",
        "field_1": "Ann",
        "field_2": "#42",
        "button_0": "42",
        "button_1": "stop-42",
        **fields,
    }


async def post(client: httpx.AsyncClient, ct: CloudTenant, **kwargs: Any) -> httpx.Response:
    t = ct.tenant
    return await client.post(t.url("/messages/template"), headers=t.headers, **kwargs)


async def test_json_send_fills_header_body_and_buttons(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    r = await post(client, ct, json=order())
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["message"] == "Template message sent successfully"
    [sent] = cloud.sent
    assert sent.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "14155551234",
        "type": "template",
        "template": {
            "name": "order_confirmation",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "text", "text": "#42"}]},
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ann"},
                        {"type": "text", "text": "#42"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": "42"}],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "1",
                    "parameters": [{"type": "payload", "payload": "stop-42"}],
                },
            ],
        },
    }
    assert cloud.schema_violations == []
    data = got["data"]
    assert data["message_id"] == sent.wamid
    assert data["message"] == "Hello Ann, your order #42 is confirmed."
    assert data["status"] == "sent"
    assert data["contact_created"] is True
    assert data["whatsapp_response"]["messages"] == [
        {"id": sent.wamid, "message_status": "accepted"}
    ]
    [stored] = await messaging.messages(ct.tenant)
    assert (stored.type, stored.status, stored.wamid) == ("template", "sent", sent.wamid)


async def test_quick_reply_payload_is_optional(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    body = order()
    del body["button_1"]
    r = await post(client, ct, json=body)
    assert r.status_code == 200, r.text
    components = cloud.sent[0].body["template"]["components"]
    assert [c.get("sub_type") for c in components if c["type"] == "button"] == ["url"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("field_2", "The field 2 field is required by this template."),
        ("field_1", "The field 1 field is required by this template."),
        ("header_field_1", "The header field 1 field is required by this template."),
        ("button_0", "The button 0 field is required by this template."),
    ],
)
async def test_a_missing_variable_is_422_before_meta_is_called(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, missing: str, message: str
) -> None:
    body = order()
    del body[missing]
    r = await post(client, ct, json=body)
    assert r.status_code == 422
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {missing: [message]},
    }
    assert cloud.requests == []  # Meta's 132000 is never reached


async def test_surplus_variables_are_422(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer
) -> None:
    r = await post(client, ct, json=order(field_3="extra"))
    assert r.status_code == 422
    assert r.json()["errors"] == {"field_3": ["The template takes 2 body variables."]}
    assert cloud.requests == []


@pytest.mark.parametrize(
    ("name", "language"),
    [("draft", "en_US"), ("nope", "en_US"), ("order_confirmation", "pt_BR")],
)
async def test_unknown_or_unapproved_template_is_422(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, name: str, language: str
) -> None:
    r = await post(client, ct, json=order(template_name=name, template_language=language))
    assert r.status_code == 422
    assert r.json()["errors"] == NOT_AVAILABLE
    assert cloud.requests == []


async def test_another_workspaces_template_is_not_available(
    client: httpx.AsyncClient, ct: CloudTenant, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    other = await messaging.cloud_tenant(enforce_care_window=False)
    r = await post(client, other, json=order())
    assert r.status_code == 422
    assert r.json()["errors"] == NOT_AVAILABLE


INVALID = [
    (
        {"phone_number": "1234567"},
        "phone_number",
        "The phone number must be between 8 and 15 digits.",
    ),
    (
        {"phone_number": "+1234567890123456"},
        "phone_number",
        "The phone number must be between 8 and 15 digits.",
    ),
    (
        {"template_language": "e"},
        "template_language",
        "The template language must be between 2 and 10 characters.",
    ),
    ({"template_name": None}, "template_name", "The template name field is required."),
    (
        {"header_image_url": "ftp://e.com/a.jpg"},
        "header_image_url",
        "The header image url format is invalid.",
    ),
    ({"field_1": "A\x00"}, "field_1", "The field 1 must not contain null characters."),
    (
        {"header_document_name": "d" * 256},
        "header_document_name",
        "The header document name may not be greater than 255 characters.",
    ),
]


@pytest.mark.parametrize(("change", "field", "message"), INVALID, ids=range(len(INVALID)))
async def test_field_rules(
    client: httpx.AsyncClient,
    ct: CloudTenant,
    cloud: FakeGraphServer,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    r = await post(client, ct, json={k: v for k, v in order(**change).items() if v is not None})
    assert r.status_code == 422
    assert r.json()["errors"][field] == [message]
    assert cloud.requests == []


async def test_from_phone_number_id_picks_another_number_of_the_workspace(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    second = ct.phone_number_ids[1]
    r = await post(client, ct, json=order(from_phone_number_id=second))
    assert r.status_code == 200, r.text
    assert cloud.sent[0].phone_number_id == second
    [stored] = await messaging.messages(ct.tenant)
    assert stored.phone_number_id == second


async def test_from_phone_number_id_of_another_workspace_is_422(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    other = await messaging.cloud_tenant()
    r = await post(client, ct, json=order(from_phone_number_id=other.number))
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "from_phone_number_id": ["The selected from phone number id is invalid."]
    }
    assert cloud.requests == []


async def test_meta_refusing_a_template_is_a_stored_failed_send(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.fail_next(1, code=131026)
    r = await post(client, ct, json=order())
    assert r.status_code == 500
    assert r.json()["errors"] == {"whatsapp": ["131026: Message undeliverable"]}
    [stored] = await messaging.messages(ct.tenant)
    assert (stored.type, stored.status) == ("template", "failed")


async def test_sandbox_workspace_sends_its_synced_template(
    client: httpx.AsyncClient, messaging: Messaging
) -> None:
    t = await messaging.sandbox_tenant()
    assert (await messaging.sync(t)).status_code == 200
    body = {"phone_number": PHONE, "template_name": "hello_world", "template_language": "en_US"}
    r = await client.post(t.url("/messages/template"), json=body, headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["message_id"].startswith("wamid.")


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, ct: CloudTenant, factory: Factory
) -> None:
    b = await factory.tenant()
    r = await client.post(b.url("/messages/template"), json=order(), headers=ct.tenant.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_workspace_b_gets_404_for_workspace_a_template_message(
    client: httpx.AsyncClient, ct: CloudTenant, factory: Factory
) -> None:
    wamid = (await post(client, ct, json=order())).json()["data"]["message_id"]
    b = await factory.tenant()
    r = await client.get(b.url(f"/messages/{wamid}/status"), headers=b.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Message not found"}
