"""Status webhooks: Meta's shape, the X-Hub-Signature-256 signature, delivery over HTTP."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.meta_webhooks import (
    SIGNATURE_HEADER,
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
    encode_webhook,
    sign_payload,
    verify_signature,
)

SECRET = "app-secret-123"


@dataclass
class Receiver:
    url: str
    deliveries: list[tuple[bytes, str | None]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A real HTTP endpoint on a local port that stores raw bodies and signature headers."""
    app = web.Application()
    runner = web.AppRunner(app)
    box: list[Receiver] = []

    async def handle(request: web.Request) -> web.Response:
        box[0].deliveries.append((await request.read(), request.headers.get(SIGNATURE_HEADER)))
        return web.Response(status=box[0].status)

    app.router.add_post("/webhooks/whatsapp", handle)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    box.append(Receiver(f"http://127.0.0.1:{port}/webhooks/whatsapp"))
    yield box[0]
    await runner.cleanup()


def test_signature_is_hex_hmac_sha256_of_raw_body() -> None:
    raw = b'{"object":"whatsapp_business_account"}'
    expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert sign_payload(raw, SECRET) == f"sha256={expected}"
    assert verify_signature(raw, f"sha256={expected}", SECRET)
    assert not verify_signature(raw + b" ", f"sha256={expected}", SECRET)
    assert not verify_signature(raw, f"sha256={expected}", "other-secret")
    assert not verify_signature(raw, None, SECRET)


def test_encoded_webhook_signs_the_exact_bytes() -> None:
    payload = build_status_webhook([StatusUpdate("wamid.X", "sent", "14155551234")])
    raw, headers = encode_webhook(payload, SECRET)
    assert orjson.loads(raw) == payload
    assert verify_signature(raw, headers[SIGNATURE_HEADER], SECRET)


def test_status_webhook_shape() -> None:
    payload = build_status_webhook(
        [
            StatusUpdate("wamid.A", "read", "14155551234", timestamp=1750000000),
            StatusUpdate(
                "wamid.B", "failed", "14155550000", timestamp=1750000001, error_code=131047
            ),
        ],
        phone_number_id="111",
        display_phone_number="15550001111",
        waba_id="222",
    )
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == "222"
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "15550001111", "phone_number_id": "111"}
    read, failed = value["statuses"]
    assert read["id"] == "wamid.A" and read["status"] == "read"
    assert read["timestamp"] == "1750000000" and read["recipient_id"] == "14155551234"
    assert "errors" not in read
    [error] = failed["errors"]
    assert error["code"] == 131047 and error["title"] == "Re-engagement message"
    assert "24 hours" in error["error_data"]["details"]


def test_inbound_text_webhook_shape() -> None:
    payload = build_text_message_webhook("14155551234", "hi", profile_name="Ana", timestamp=1)
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Ana"}, "wa_id": "14155551234"}]
    [message] = value["messages"]
    assert message["from"] == "14155551234" and message["text"] == {"body": "hi"}
    assert message["id"].startswith("wamid.") and message["timestamp"] == "1"
    again = build_text_message_webhook("14155551234", "hi", profile_name="Ana", timestamp=1)
    assert again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] != message["id"]
    scoped = build_text_message_webhook("1", "x", user_id="US.123", wamid="wamid.fixed")
    scoped_value = scoped["entry"][0]["changes"][0]["value"]
    assert scoped_value["contacts"][0]["user_id"] == "US.123"
    assert scoped_value["messages"][0]["id"] == "wamid.fixed"


async def _send_text(fake_graph: FakeGraphServer, to: str) -> str:
    body = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "x"}}
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            f"{fake_graph.base_url}/555/messages",
            json=body,
            headers={"Authorization": "Bearer t"},
        ) as r,
    ):
        answer: dict[str, Any] = await r.json()
    wamid: str = answer["messages"][0]["id"]
    return wamid


async def test_send_status_webhooks_for_sent_messages(
    fake_graph: FakeGraphServer, receiver: Receiver
) -> None:
    first = await _send_text(fake_graph, "14155551234")
    second = await _send_text(fake_graph, "14155555678")
    statuses = await fake_graph.send_status_webhooks(receiver.url, SECRET)
    assert statuses == [200] * 6  # sent, delivered, read for each message, one per webhook
    seen = []
    for raw, signature in receiver.deliveries:
        assert verify_signature(raw, signature, SECRET)
        value = orjson.loads(raw)["entry"][0]["changes"][0]["value"]
        assert value["metadata"]["phone_number_id"] == "555"
        [status] = value["statuses"]
        seen.append((status["id"], status["status"], status["recipient_id"]))
    assert seen == [
        (first, "sent", "14155551234"),
        (first, "delivered", "14155551234"),
        (first, "read", "14155551234"),
        (second, "sent", "14155555678"),
        (second, "delivered", "14155555678"),
        (second, "read", "14155555678"),
    ]


async def test_send_explicit_updates_batched(
    fake_graph: FakeGraphServer, receiver: Receiver
) -> None:
    receiver.status = 401
    updates = [StatusUpdate("wamid.A", "delivered", "1"), StatusUpdate("wamid.A", "read", "1")]
    statuses = await fake_graph.send_status_webhooks(
        receiver.url, SECRET, updates, phone_number_id="999", batch=True
    )
    assert statuses == [401]
    [(raw, _)] = receiver.deliveries
    value = orjson.loads(raw)["entry"][0]["changes"][0]["value"]
    assert [s["status"] for s in value["statuses"]] == ["delivered", "read"]
    assert value["metadata"]["phone_number_id"] == "999"


async def test_bare_updates_need_a_phone_number_id(fake_graph: FakeGraphServer) -> None:
    with pytest.raises(ValueError, match="phone_number_id"):
        await fake_graph.send_status_webhooks(
            "http://127.0.0.1:9/", SECRET, [StatusUpdate("wamid.A", "sent", "1")]
        )
