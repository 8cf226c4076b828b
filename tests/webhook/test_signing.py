"""Delivery headers and signatures (docs/webhooks.md): Xobito's hex HMAC and Standard Webhooks,
verified by an independent recomputation and by the ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.factories import Factory, Tenant
from tests.webhook.conftest import FakeClock, Hooks, MakeDispatcher, Receiver
from xobito.kit.time import utcnow
from xobito.models import WebhookEndpoint
from xobito.webhook.signing import headers as sign_headers


def hex_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


async def one_delivery(client: httpx.AsyncClient, hooks: Hooks, t: Tenant, name: str) -> None:
    r = await client.post(t.url("/sources"), json={"name": name}, headers=t.headers)
    assert r.status_code == 201
    await hooks.deliver()


async def test_every_delivery_carries_both_signatures_and_they_verify(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    secret = (await hooks.endpoint(t, "/h"))["secret"]
    before = int(time.time())
    await one_delivery(client, hooks, t, "Web")
    (hit,) = receiver.at("/h")
    h = hit.headers
    assert h["Content-Type"] == "application/json"
    assert h["X-Webhook-Event"] == "created"
    assert h["X-Webhook-Id"] == h["webhook-id"]
    assert h["X-Webhook-Id"].startswith("evt_")
    assert h["X-Webhook-Timestamp"] == h["webhook-timestamp"]
    assert before <= int(h["X-Webhook-Timestamp"]) <= int(time.time())
    # Xobito: lowercase hex of HMAC-SHA256(body), keyed with the secret string's bytes.
    assert h["X-Webhook-Signature"] == hex_signature(secret, hit.body)
    assert h["X-Webhook-Signature"] == h["X-Webhook-Signature"].lower()
    # Standard Webhooks: one v1 entry, keyed with the base64-decoded part after whsec_.
    assert h["webhook-signature"] == standard_signature(
        secret, h["webhook-id"], h["webhook-timestamp"], hit.body
    )
    assert Webhook(secret).verify(hit.body, h) == hit.json


@pytest.mark.parametrize("tamper", ["body", "timestamp", "id"])
async def test_tampering_fails_verification(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver, tamper: str
) -> None:
    t = await factory.tenant()
    secret = (await hooks.endpoint(t, "/h"))["secret"]
    await one_delivery(client, hooks, t, "Web")
    (hit,) = receiver.at("/h")
    body, h = hit.body, dict(hit.headers)
    if tamper == "body":
        body = body.replace(b"Web", b"Wob")
        assert hex_signature(secret, body) != h["X-Webhook-Signature"]
    elif tamper == "timestamp":
        h["webhook-timestamp"] = str(int(h["webhook-timestamp"]) - 1)
    else:
        h["webhook-id"] = h["webhook-id"][:-1] + ("0" if h["webhook-id"][-1] != "0" else "1")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, h)


async def test_another_endpoints_secret_does_not_verify(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/h")
    other = (await hooks.endpoint(t, "/other"))["secret"]
    await one_delivery(client, hooks, t, "Web")
    (hit,) = receiver.at("/h")
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(hit.body, hit.headers)
    assert hit.headers["X-Webhook-Signature"] != hex_signature(other, hit.body)


async def test_ids_are_unique_per_event_and_stable_across_retries(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    secret = (await hooks.endpoint(t, "/h"))["secret"]
    receiver.respond("/h", 500, then=200)
    for name in ("One", "Two"):
        await client.post(t.url("/sources"), json={"name": name}, headers=t.headers)
    clock = FakeClock()
    dispatcher = make_dispatcher(clock)
    assert await dispatcher.run_once() == 2  # both fail once (500, then 200 for the second)
    clock.advance(1)
    assert await dispatcher.run_once() == 1
    ids = [h.event_id for h in receiver.at("/h")]
    assert len(ids) == 3 and len(set(ids)) == 2
    retried = [h for h in receiver.at("/h") if h.event_id == ids[0]]
    assert len(retried) == 2
    first, second = retried
    assert first.body == second.body  # the exact stored bytes
    assert int(second.headers["webhook-timestamp"]) == int(first.headers["webhook-timestamp"]) + 1
    for hit in retried:  # each attempt is signed for its own timestamp
        assert hit.headers["webhook-signature"] == standard_signature(
            secret, hit.event_id, hit.headers["webhook-timestamp"], hit.body
        )


async def test_during_a_rotation_both_secrets_verify_and_the_hex_uses_the_new_one(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/h")
    old = e["secret"]
    r = await client.post(f"{hooks.base(t)}/webhooks/{e['id']}/rotate-secret", headers=hooks.admin)
    assert r.status_code == 200, r.text
    new = r.json()["data"]["secret"]
    assert new != old and new.startswith("whsec_")
    await one_delivery(client, hooks, t, "Web")
    (hit,) = receiver.at("/h")
    entries = hit.headers["webhook-signature"].split(" ")
    assert len(entries) == 2 and all(x.startswith("v1,") for x in entries)
    assert Webhook(old).verify(hit.body, hit.headers) == hit.json
    assert Webhook(new).verify(hit.body, hit.headers) == hit.json
    assert hit.headers["X-Webhook-Signature"] == hex_signature(new, hit.body)


async def test_after_the_overlap_only_the_new_secret_signs(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/h")
    old = e["secret"]
    r = await client.post(f"{hooks.base(t)}/webhooks/{e['id']}/rotate-secret", headers=hooks.admin)
    new = r.json()["data"]["secret"]
    # The overlap ran out (time travel on the stored end of the overlap).
    await hooks.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == e["id"])
        .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
    )
    await hooks.session.commit()
    await one_delivery(client, hooks, t, "Web")
    (hit,) = receiver.at("/h")
    assert len(hit.headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(hit.body, hit.headers) == hit.json
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(hit.body, hit.headers)
    assert hit.headers["X-Webhook-Signature"] == hex_signature(new, hit.body)


def test_headers_list_one_entry_per_secret_newest_first_for_the_hex() -> None:
    body = b'{"event":"created"}'
    new, old = (
        "whsec_" + base64.b64encode(b"n" * 32).decode(),
        "whsec_" + base64.b64encode(b"o" * 32).decode(),
    )
    now = utcnow()
    h = sign_headers(body=body, event_id="evt_1", event="created", secrets=[new, old], now=now)
    ts = str(int(now.timestamp()))
    assert h["webhook-signature"] == " ".join(
        standard_signature(s, "evt_1", ts, body) for s in (new, old)
    )
    assert h["X-Webhook-Signature"] == hex_signature(new, body)
    assert h["X-Webhook-Timestamp"] == ts
