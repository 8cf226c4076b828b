"""Meta refusing a send (docs/api/messages.md): the 500 envelope, the stored attempt, and
retries."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi import FastAPI

from tests.message.conftest import CloudTenant, Messaging
from xobito.testing.fake_graph import FakeGraphServer
from xobito.whatsapp.cloud import CloudProvider

PHONE = "+14155551234"
BODY = {"phone_number": PHONE, "message_body": "Hello"}


@pytest.fixture
async def ready(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    ct = await messaging.cloud_tenant()
    await messaging.cloud_inbound(ct, PHONE)
    return ct


async def send(client: httpx.AsyncClient, ct: CloudTenant) -> httpx.Response:
    t = ct.tenant
    return await client.post(t.url("/messages/send"), json=BODY, headers=t.headers)


FINAL = [
    (131047, "131047: Re-engagement message"),
    (131026, "131026: Message undeliverable"),
    (132000, "132000: Number of parameters does not match the expected number of params"),
    (100, "100: Invalid parameter"),
    (190, "190: Invalid OAuth access token - Cannot parse access token"),
]


@pytest.mark.parametrize(("code", "reported"), FINAL, ids=[str(c) for c, _ in FINAL])
async def test_a_final_meta_error_is_one_request_a_500_and_a_stored_failed_attempt(
    client: httpx.AsyncClient,
    ready: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    code: int,
    reported: str,
) -> None:
    cloud.fail_next(1, code=code)
    r = await send(client, ready)
    assert r.status_code == 500
    assert r.json() == {
        "status": "error",
        "message": "Failed to send message",
        "errors": {"whatsapp": [reported]},
    }
    assert len(cloud.requests_to("messages")) == 1
    assert cloud.schema_violations == []
    [_inbound, failed] = await messaging.messages(ready.tenant)
    assert (failed.direction, failed.status, failed.wamid) == ("outbound", "failed", None)
    assert failed.error_code == code
    assert failed.error_message == reported
    assert failed.failed_at is not None and failed.sent_at is None
    assert failed.text == "Hello"
    assert failed.payload is not None and failed.payload["to"] == "14155551234"


async def test_a_recipient_specific_refusal_uses_meta_wording(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.fail_for_to["14155551234"] = (400, 131026, "(#131026) Receiver is incapable")
    r = await send(client, ready)
    assert r.status_code == 500
    assert r.json()["errors"] == {"whatsapp": ["131026: Receiver is incapable"]}
    [_inbound, failed] = await messaging.messages(ready.tenant)
    assert failed.status == "failed"


RETRIED = [
    {"code": 130429},
    {"code": 131056},
    {"code": 4, "status": 429},
    {"code": 131000, "status": 500},
    {"code": 2, "status": 503},
]


@pytest.mark.parametrize("failure", RETRIED, ids=lambda f: f"{f['code']}")
async def test_throttling_and_server_errors_are_retried_within_the_request(
    client: httpx.AsyncClient,
    ready: CloudTenant,
    cloud: FakeGraphServer,
    messaging: Messaging,
    failure: dict[str, int],
) -> None:
    cloud.fail_next(1, code=failure["code"], status=failure.get("status"))
    r = await send(client, ready)
    assert r.status_code == 200, r.text
    assert len(cloud.requests_to("messages")) == 2
    [sent] = cloud.sent
    assert r.json()["data"]["message_id"] == sent.wamid
    outbound = [m for m in await messaging.messages(ready.tenant) if m.direction == "outbound"]
    assert [(m.status, m.wamid) for m in outbound] == [("sent", sent.wamid)]
    assert cloud.schema_violations == []


async def test_retries_are_bounded_then_the_send_fails(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.fail_next(10, code=130429)
    r = await send(client, ready)
    assert r.status_code == 500
    assert r.json()["errors"] == {"whatsapp": ["130429: Rate limit hit"]}
    assert len(cloud.requests_to("messages")) == 3
    outbound = [m for m in await messaging.messages(ready.tenant) if m.direction == "outbound"]
    assert [m.status for m in outbound] == ["failed"]


async def test_a_failed_send_can_be_followed_by_a_successful_one(
    client: httpx.AsyncClient, ready: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.fail_next(1, code=131026)
    assert (await send(client, ready)).status_code == 500
    r = await send(client, ready)
    assert r.status_code == 200, r.text
    outbound = [m for m in await messaging.messages(ready.tenant) if m.direction == "outbound"]
    assert [m.status for m in outbound] == ["failed", "sent"]
    assert outbound[0].chat_id == outbound[1].chat_id == r.json()["data"]["chat_id"]


async def test_a_network_failure_is_retried_then_reported_without_a_code(
    client: httpx.AsyncClient, ready: CloudTenant, messaging: Messaging, app: FastAPI
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    unreachable = CloudProvider(f"http://127.0.0.1:{closed_port}/v23.0", base_delay=0.001)
    app.state.providers["cloud"] = unreachable  # the ``cloud`` fixture restores it
    try:
        r = await send(client, ready)
    finally:
        await unreachable.close()
    assert r.status_code == 500
    got = r.json()
    assert (got["status"], got["message"]) == ("error", "Failed to send message")
    [reported] = got["errors"]["whatsapp"]
    assert reported.startswith("Network error talking to the Graph API")
    outbound = [m for m in await messaging.messages(ready.tenant) if m.direction == "outbound"]
    assert [(m.status, m.error_code, m.error_message) for m in outbound] == [
        ("failed", None, reported)
    ]
