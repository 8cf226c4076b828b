"""Every webhook example in Meta's OpenAPI file (``paths./whatsapp/webhooks``), received.

Each example is posted with a valid signature for a workspace that owns its
``phone_number_id``; after the worker ran, no inbox row is left unprocessed or failed, and
the message types of docs/webhooks.md leave the expected records.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.inbound.conftest import Line, Meta, at
from xobito.testing.meta_schema import webhook_examples

EXAMPLES = webhook_examples()
NUMBER = "106540352242922"  # the business number of every example
SENDER = "+16505551234"
PROFILE = "Sheena Nelson"

# What each message example of docs/webhooks.md must leave: the stored type and fields.
EXPECTED: dict[str, dict[str, Any]] = {
    "Text Message": {"type": "text", "text": "Does it come in another color?"},
    "Text Message with Context (Product Inquiry)": {
        "type": "text",
        "text": "Is this still available?",
        "context_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA",
    },
    "Text Message from Click to WhatsApp Ad": {
        "type": "text",
        "text": "Hello! Can I get more info on this?",
    },
    "Reaction Message": {
        "type": "reaction",
        "text": "\N{THUMBS UP SIGN}",
        "context_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0RTJEOTc2ODVERUY5RDlGNkYA",
    },
    "Image Message": {
        "type": "image",
        "text": "Taj Mahal",
        "media": {
            "id": "1003383421387256",
            "mime_type": "image/jpeg",
            "caption": "Taj Mahal",
            "filename": None,
        },
    },
    "Location Message": {
        "type": "location",
        "text_contains": ["37.44221496582", "-122.16165924072", "Philz Coffee"],
    },
    "Contact Sharing Message": {"type": "contacts", "text": "Lucía Gómez"},
    "Button Message": {
        "type": "button",
        "text": "Unsubscribe",
        "button_reply": {"id": "Unsubscribe", "title": "Unsubscribe"},
        "context_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJFNjk2OTMwNEZCQjhGMzUyQUYA",
    },
    "Interactive List Reply Message": {
        "type": "interactive",
        "text": "Priority Mail Express",
        "button_reply": {"id": "priority_express", "title": "Priority Mail Express"},
    },
    "Interactive Button Reply Message": {
        "type": "interactive",
        "text": "Cancel",
        "button_reply": {"id": "cancel-button", "title": "Cancel"},
    },
}


def test_the_file_still_has_the_examples_we_check() -> None:
    assert set(EXPECTED) <= set(EXAMPLES)
    assert len(EXAMPLES) >= 16


def the_messages(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        m
        for entry in payload["entry"]
        for change in entry["changes"]
        for m in change["value"].get("messages", [])
    ]


async def receive(meta: Meta, line: Line, payload: dict[str, Any]) -> None:
    resp = await meta.post(payload, line.app_secret)
    assert resp.status_code == 200, resp.text
    await meta.drain()
    events = await meta.inbox()
    assert events, "the delivery was not stored"
    for event in events:
        assert event.processed_at is not None, event.error
        assert event.error is None


async def check_message(
    meta: Meta, line: Line, raw: dict[str, Any], expected: dict[str, Any], firstname: str
) -> None:
    message = await meta.message(raw["id"])
    assert message.workspace_id == line.workspace_id
    assert message.direction == "inbound"
    assert message.phone == SENDER
    assert message.phone_number_id == NUMBER
    assert message.received_at == at(raw["timestamp"])
    assert message.type == expected["type"]
    if "text" in expected:
        assert message.text == expected["text"]
    for part in expected.get("text_contains", []):
        assert message.text is not None and part in message.text
    payload = message.payload or {}
    assert payload.get("button_reply") == expected.get("button_reply")
    assert payload.get("media") == expected.get("media")
    if "context_message_id" in expected:
        assert message.context_message_id == expected["context_message_id"]
    (contact,) = await meta.contacts(line.workspace_id)
    assert contact.id == message.contact_id
    assert contact.type == "guest"
    assert contact.firstname == firstname
    assert contact.phone == SENDER
    chat = await meta.chat(contact.id)
    assert message.chat_id == chat.id
    assert chat.last_inbound_at == at(raw["timestamp"])  # the care window runs from here


@pytest.mark.parametrize("name", sorted(EXAMPLES))
async def test_every_example_is_received(meta: Meta, name: str) -> None:
    line = await meta.line(NUMBER)
    payload = EXAMPLES[name]
    await receive(meta, line, payload)
    raws = the_messages(payload)
    if name in EXPECTED:
        (raw,) = raws
        await check_message(meta, line, raw, EXPECTED[name], PROFILE)
    elif not raws:  # group lifecycle and settings: nothing of ours to store
        counts = await meta.counts()
        assert (counts["messages"], counts["contacts"], counts["chats"]) == (0, 0, 0)
    else:  # types docs/webhooks.md does not list (order, system, unsupported): kept, never an error
        for raw in raws:
            stored = await meta.message(raw["id"])
            assert stored.type == raw["type"]
            assert stored.direction == "inbound"


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_examples_with_a_business_scoped_user_id(meta: Meta, name: str) -> None:
    """Newer Graph versions add ``contacts[].user_id``: accepted and ignored."""
    line = await meta.line(NUMBER)
    payload = copy.deepcopy(EXAMPLES[name])
    value = payload["entry"][0]["changes"][0]["value"]
    for contact in value["contacts"]:
        contact["user_id"] = "US.13491208655302741918"
    await receive(meta, line, payload)
    await check_message(meta, line, the_messages(payload)[0], EXPECTED[name], PROFILE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_examples_without_optional_fields(meta: Meta, name: str) -> None:
    """No ``contacts`` array, no ``display_phone_number``, no ``messaging_product``, no
    ``object``: still processed; the contact is named by its number."""
    line = await meta.line(NUMBER)
    payload = copy.deepcopy(EXAMPLES[name])
    del payload["object"]
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"], value["messaging_product"], value["metadata"]["display_phone_number"]
    await receive(meta, line, payload)
    await check_message(meta, line, the_messages(payload)[0], EXPECTED[name], SENDER)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("video", {"id": "2001", "mime_type": "video/mp4", "caption": "Unboxing"}),
        ("audio", {"id": "2002", "mime_type": "audio/ogg; codecs=opus", "voice": True}),
        ("sticker", {"id": "2003", "mime_type": "image/webp", "animated": False}),
        (
            "document",
            {
                "id": "2004",
                "mime_type": "application/pdf",
                "caption": "Invoice",
                "filename": "invoice-0042.pdf",
            },
        ),
    ],
)
async def test_other_media_types_keep_their_media_id(
    meta: Meta, kind: str, body: dict[str, Any]
) -> None:
    """The image example, turned into the other media types docs/webhooks.md lists."""
    line = await meta.line(NUMBER)
    payload = copy.deepcopy(EXAMPLES["Image Message"])
    raw = the_messages(payload)[0]
    del raw["image"]
    raw["type"], raw[kind] = kind, body
    await receive(meta, line, payload)
    media = {k: body.get(k) for k in ("id", "mime_type", "caption", "filename")}
    expected = {"type": kind, "text": body.get("caption"), "media": media}
    await check_message(meta, line, raw, expected, PROFILE)


async def test_all_examples_in_one_backlog(meta: Meta) -> None:
    """Several examples share a wamid: one batch keeps the first and skips the others."""
    line = await meta.line(NUMBER)
    for payload in EXAMPLES.values():
        resp = await meta.post(payload, line.app_secret)
        assert resp.status_code == 200
    await meta.drain()
    events = await meta.inbox()
    assert len(events) == len(EXAMPLES)
    assert all(e.processed_at is not None and e.error is None for e in events)
    wamids = {m["id"] for p in EXAMPLES.values() for m in the_messages(p)}
    stored = await meta.messages(line.workspace_id)
    # Besides the inbound messages, the confirmation of the "Unsubscribe" button's opt-out.
    inbound = [m for m in stored if m.direction == "inbound"]
    assert sorted(str(m.wamid) for m in inbound) == sorted(wamids)
    (contact,) = await meta.contacts(line.workspace_id)
    assert contact.firstname == PROFILE
