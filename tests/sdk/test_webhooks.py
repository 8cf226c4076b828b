"""``xobito_client.webhooks.verify`` against deliveries made by the real webhook dispatcher to
a real local aiohttp receiver: both signature schemes, tampering, stale timestamps, rotation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from tests.factories import Factory, Tenant
from tests.sdk.conftest import MakeClient
from xobito_client import WebhookVerificationError, webhooks


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    got: list[Delivery] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xobito-hook"

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(Delivery(dict(request.headers), await request.read()))
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    app = web.Application()
    app.router.add_post("/xobito-hook", r.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    r.port = runner.addresses[0][1]
    yield r
    await runner.cleanup()


@pytest.fixture
async def deliver(app: FastAPI) -> AsyncIterator[Any]:
    """Runs the app's dispatcher until nothing is due; closes its HTTP session afterwards."""

    async def run() -> None:
        for _ in range(20):
            if not await app.state.dispatcher.run_once():
                break

    yield run
    await app.state.dispatcher.close()


async def endpoint(client: httpx.AsyncClient, admin: dict[str, str], t: Tenant, url: str) -> Any:
    r = await client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/webhooks",
        json={"url": url, "events": ["contacts.created", "contacts.updated"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def test_real_delivery_verifies_with_both_schemes(
    sdk: MakeClient,
    factory: Factory,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    receiver: Receiver,
    deliver: Any,
) -> None:
    t = await factory.tenant()
    hook = await endpoint(client, admin_headers, t, receiver.url)
    secret = hook["secret"]
    status, source = await factory.status(t), await factory.source(t)
    contact = await sdk(t).contacts.create(
        firstname="Hook",
        phone="+14155550123",
        type="lead",
        source_id=source.id,
        status_id=status.id,
    )
    await deliver()

    [d] = receiver.got
    stamp = int(d.headers["webhook-timestamp"])
    payload = webhooks.verify(d.body, d.headers, secret, scheme="standard")
    assert payload["event"] == "created"
    assert payload["data"]["id"] == contact.id
    assert payload["data"]["attributes"]["phone"] == "+14155550123"
    assert webhooks.verify(d.body, d.headers, secret, scheme="xobito") == payload
    assert webhooks.verify(d.body, d.headers, secret) == payload  # auto: Standard Webhooks
    # Only the Xobito header (an old-style receiver forwarding just that one).
    only_hex = {"X-Webhook-Signature": d.headers["X-Webhook-Signature"]}
    assert webhooks.verify(d.body, only_hex, secret) == payload
    # The timestamp check accepts the configured tolerance and no more.
    webhooks.verify(d.body, d.headers, secret, now=stamp + 300)
    with pytest.raises(WebhookVerificationError, match="too old"):
        webhooks.verify(d.body, d.headers, secret, now=stamp + 301)
    with pytest.raises(WebhookVerificationError, match="too new"):
        webhooks.verify(d.body, d.headers, secret, now=stamp - 301)
    webhooks.verify(d.body, d.headers, secret, now=stamp + 3600, tolerance=3600)


async def test_tampering_is_refused_by_both_schemes(
    sdk: MakeClient,
    factory: Factory,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    receiver: Receiver,
    deliver: Any,
) -> None:
    t = await factory.tenant()
    secret = (await endpoint(client, admin_headers, t, receiver.url))["secret"]
    await factory.contact(t)
    await deliver()
    [d] = receiver.got
    tampered = d.body.replace(b'"created"', b'"deleted"')
    assert tampered != d.body
    other_secret = "whsec_" + "A" * 43 + "="
    schemes: tuple[Literal["standard", "xobito"], ...] = ("standard", "xobito")
    for scheme in schemes:
        with pytest.raises(WebhookVerificationError):
            webhooks.verify(tampered, d.headers, secret, scheme=scheme)
        with pytest.raises(WebhookVerificationError):
            webhooks.verify(d.body, d.headers, other_secret, scheme=scheme)
    # Re-serialised JSON is not the body that was signed.
    reserialised = json.dumps(json.loads(d.body)).encode()
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(reserialised, d.headers, secret)
    forged = dict(d.headers, **{"webhook-id": "evt_other"})
    with pytest.raises(WebhookVerificationError, match="No matching webhook-signature"):
        webhooks.verify(d.body, forged, secret)
    no_signature = {k: v for k, v in d.headers.items() if k.lower() != "webhook-signature"}
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(d.body, no_signature, secret, scheme="standard")
    with pytest.raises(WebhookVerificationError, match="Missing X-Webhook-Signature"):
        webhooks.verify(d.body, {}, secret)


async def test_rotation_overlap_accepts_old_and_new_secret(
    sdk: MakeClient,
    factory: Factory,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    receiver: Receiver,
    deliver: Any,
) -> None:
    t = await factory.tenant()
    hook = await endpoint(client, admin_headers, t, receiver.url)
    old = hook["secret"]
    r = await client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/webhooks/{hook['id']}/rotate-secret",
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text
    new = r.json()["data"]["secret"]
    await factory.contact(t)
    await deliver()
    [d] = receiver.got

    assert len(d.headers["webhook-signature"].split(" ")) == 2  # one entry per active secret
    for secret in (old, new, [old, new]):
        webhooks.verify(d.body, d.headers, secret, scheme="standard")
    # X-Webhook-Signature holds the newest secret's digest only.
    webhooks.verify(d.body, d.headers, new, scheme="xobito")
    webhooks.verify(d.body, d.headers, [old, new], scheme="xobito")
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(d.body, d.headers, old, scheme="xobito")


def test_sign_matches_what_verify_expects() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"event":"message.sent"}'
    headers = webhooks.sign(body, secret, msg_id="msg_1", timestamp=1_700_000_000)
    assert webhooks.verify(body, headers, secret, now=1_700_000_000)["event"] == "message.sent"
    # A known Standard Webhooks test vector (the spec's reference libraries agree on it).
    vector = webhooks.standard_signature(
        b'{"test": 2432232314}', secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
    )
    assert vector == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    with pytest.raises(ValueError):
        webhooks.verify(body, headers, "")
