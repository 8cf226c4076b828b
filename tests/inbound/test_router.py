"""``GET|POST /webhooks/whatsapp`` (docs/webhooks.md): subscription check, signatures, durable
inbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from tests.inbound.conftest import WEBHOOK, Meta
from xobito.testing.meta_webhooks import (
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
    sign_payload,
)

NOTHING = {"inbox_events": 0, "messages": 0, "contacts": 0, "chats": 0, "jobs": 0}


def hub(
    mode: str | None = "subscribe", token: str | None = None, challenge: str = "1158201444"
) -> dict[str, str]:
    params = {"hub.challenge": challenge}
    if mode is not None:
        params["hub.mode"] = mode
    if token is not None:
        params["hub.verify_token"] = token
    return params


# -- GET: subscription check ---------------------------------------------------------------


async def test_verify_with_a_connections_token_echoes_the_challenge(
    meta: Meta, client: httpx.AsyncClient
) -> None:
    await meta.line()
    line = await meta.line(verify_token="second-connection-token")
    resp = await client.get(WEBHOOK, params=hub(token=line.verify_token))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "1158201444"


async def test_verify_with_the_app_level_token(
    client: httpx.AsyncClient, app_settings: Callable[..., None]
) -> None:
    app_settings(meta_verify_token="app-level-verify")
    resp = await client.get(WEBHOOK, params=hub(token="app-level-verify", challenge="abc-123"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "abc-123"


@pytest.mark.parametrize(
    "params",
    [
        hub(token="wrong-token"),
        hub(mode="unsubscribe", token="verify-token-1"),
        hub(mode=None, token="verify-token-1"),
        hub(token=None),
        hub(token=""),
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-mode", "no-token", "empty-token", "nothing"],
)
async def test_verify_refused(
    meta: Meta,
    client: httpx.AsyncClient,
    app_settings: Callable[..., None],
    params: dict[str, str],
) -> None:
    await meta.line()  # its verify token is "verify-token-1"
    app_settings(meta_verify_token="app-level-verify")
    resp = await client.get(WEBHOOK, params=params)
    assert resp.status_code == 403
    assert "1158201444" not in resp.text


async def test_verify_with_an_overlong_token_is_403(meta: Meta, client: httpx.AsyncClient) -> None:
    await meta.line()
    resp = await client.get(WEBHOOK, params=hub(token="x" * 5000))
    assert resp.status_code == 403


async def test_verify_without_any_token_configured_is_refused(client: httpx.AsyncClient) -> None:
    resp = await client.get(WEBHOOK, params=hub(token="anything"))
    assert resp.status_code == 403


# -- POST: signatures ------------------------------------------------------------------------


def message_for(line: Any, body: str = "Hello", **kw: Any) -> dict[str, Any]:
    return build_text_message_webhook(
        "16505551234", body, phone_number_id=line.phone_number_id, waba_id=line.waba_id, **kw
    )


async def test_missing_signature_is_401_and_stores_nothing(meta: Meta) -> None:
    line = await meta.line()
    before = await meta.counts()
    resp = await meta.post(message_for(line), None)
    assert resp.status_code == 401
    await meta.drain()
    assert await meta.counts() == before


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "0" * 64,
        "sha256=",
        "md5=abc",
        "garbage",
        sign_payload(b"another body", "app-secret-1").upper(),
    ],
)
async def test_wrong_signature_is_401_and_stores_nothing(meta: Meta, signature: str) -> None:
    line = await meta.line()
    before = await meta.counts()
    resp = await meta.post(message_for(line), None, signature=signature)
    assert resp.status_code == 401
    assert resp.json()["status"] == "error"
    await meta.drain()
    assert await meta.counts() == before


async def test_signature_of_another_connection_is_401(meta: Meta) -> None:
    line_a = await meta.line()
    line_b = await meta.line()
    before = await meta.counts()
    # A payload for A's number signed with B's app secret: B cannot speak for A.
    resp = await meta.post(message_for(line_a), line_b.app_secret)
    assert resp.status_code == 401
    await meta.drain()
    assert await meta.counts() == before
    assert await meta.messages() == []


async def test_body_tampered_after_signing_is_401(meta: Meta) -> None:
    line = await meta.line()
    before = await meta.counts()
    signed = orjson.dumps(message_for(line, "Pay 10 EUR"))
    tampered = signed.replace(b"Pay 10 EUR", b"Pay 99 EUR")
    assert tampered != signed
    resp = await meta.post(
        None, None, raw=tampered, signature=sign_payload(signed, line.app_secret)
    )
    assert resp.status_code == 401
    await meta.drain()
    assert await meta.counts() == before


async def test_reserialised_body_is_not_accepted(meta: Meta) -> None:
    """The HMAC is over the raw bytes: the same JSON with other whitespace does not match."""
    line = await meta.line()
    payload = message_for(line)
    compact = orjson.dumps(payload)
    pretty = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    resp = await meta.post(None, None, raw=pretty, signature=sign_payload(compact, line.app_secret))
    assert resp.status_code == 401
    assert await meta.counts() == NOTHING


async def test_malformed_unsigned_bodies_are_401_not_500(meta: Meta) -> None:
    """No side effect and no crash before the signature check, whatever the body is."""
    await meta.line()
    for raw in (b"{", b"[]", b'{"entry": 5}', b'{"entry": [{"changes": 7}]}', b'"x"', b""):
        resp = await meta.post(None, None, raw=raw, signature="sha256=" + "1" * 64)
        assert resp.status_code == 401, (raw, resp.status_code, resp.text)
    assert (await meta.counts())["inbox_events"] == 0


async def test_valid_delivery_is_stored_before_processing(meta: Meta) -> None:
    line = await meta.line()
    payload = message_for(line, "Does it come in another color?")
    resp = await meta.post(payload, line.app_secret)
    assert resp.status_code == 200
    assert resp.json()["status"] == "success"
    (event,) = await meta.inbox()
    assert orjson.loads(event.body) == payload
    assert event.processed_at is None
    # Nothing is processed inside the request: the worker does it.
    assert await meta.messages() == []
    assert await meta.contacts(line.workspace_id) == []

    assert await meta.drain() >= 1
    (event,) = await meta.inbox()
    assert event.processed_at is not None
    assert event.error is None
    (message,) = await meta.messages(line.workspace_id)
    assert message.text == "Does it come in another color?"


async def test_stored_body_is_the_exact_bytes_signed(meta: Meta) -> None:
    line = await meta.line()
    raw = orjson.dumps(message_for(line), option=orjson.OPT_INDENT_2)
    resp = await meta.post(None, None, raw=raw, signature=sign_payload(raw, line.app_secret))
    assert resp.status_code == 200
    (event,) = await meta.inbox()
    assert event.body == raw


async def test_app_level_secret_is_accepted_as_fallback(
    meta: Meta, app_settings: Callable[..., None]
) -> None:
    line = await meta.line()
    app_settings(meta_app_secret="the-platform-app-secret")
    resp = await meta.post(message_for(line, "via app secret"), "the-platform-app-secret")
    assert resp.status_code == 200
    # The connection's own secret still works alongside it.
    resp = await meta.post(message_for(line, "via connection secret"), line.app_secret)
    assert resp.status_code == 200
    await meta.drain()
    texts = sorted(str(m.text) for m in await meta.messages(line.workspace_id))
    assert texts == ["via app secret", "via connection secret"]


async def test_app_level_secret_unset_means_only_connections_sign(meta: Meta) -> None:
    line = await meta.line()
    resp = await meta.post(message_for(line), "the-platform-app-secret")
    assert resp.status_code == 401


async def test_unknown_number_is_acknowledged_and_creates_nothing(
    meta: Meta, app_settings: Callable[..., None]
) -> None:
    line = await meta.line()
    app_settings(meta_app_secret="the-platform-app-secret")
    payload = build_text_message_webhook("16505551234", "Hi", phone_number_id="999999999999")
    resp = await meta.post(payload, "the-platform-app-secret")
    assert resp.status_code == 200
    await meta.drain()
    (event,) = await meta.inbox()
    assert event.processed_at is not None and event.error is None
    assert await meta.messages() == []
    assert await meta.contacts(line.workspace_id) == []
    assert (await meta.counts())["chats"] == 0


async def test_unknown_number_signed_only_by_a_connection_is_401(meta: Meta) -> None:
    line = await meta.line()
    payload = build_text_message_webhook("16505551234", "Hi", phone_number_id="999999999999")
    resp = await meta.post(payload, line.app_secret)
    assert resp.status_code == 401
    assert (await meta.counts())["inbox_events"] == 0


async def test_signed_body_that_is_not_an_object_is_refused_unstored(
    meta: Meta, app_settings: Callable[..., None]
) -> None:
    app_settings(meta_app_secret="the-platform-app-secret")
    for raw in (b"not json", b"[1, 2]"):
        resp = await meta.post(None, "the-platform-app-secret", raw=raw)
        assert resp.status_code == 422
    assert (await meta.counts())["inbox_events"] == 0


async def test_messages_reach_only_the_workspace_owning_the_number(meta: Meta) -> None:
    line_a = await meta.line()
    line_b = await meta.line()
    await meta.deliver(message_for(line_a, "for A"), line_a.app_secret)
    await meta.drain()
    assert [m.text for m in await meta.messages(line_a.workspace_id)] == ["for A"]
    assert await meta.messages(line_b.workspace_id) == []
    assert await meta.contacts(line_b.workspace_id) == []


async def test_workspace_b_cannot_read_a_message_of_workspace_a(
    meta: Meta, client: httpx.AsyncClient
) -> None:
    line_a = await meta.line()
    line_b = await meta.line()
    payload = message_for(line_a, "secret of A", wamid="wamid.A-ONLY")
    await meta.deliver(payload, line_a.app_secret)
    await meta.drain()
    url = "/messages/wamid.A-ONLY/status"
    resp = await client.get(line_b.tenant.url(url), headers=line_b.tenant.headers)
    assert resp.status_code == 404
    resp = await client.get(line_a.tenant.url(url), headers=line_a.tenant.headers)
    assert resp.status_code == 200


async def test_token_of_a_on_b_subdomain_is_401(meta: Meta, client: httpx.AsyncClient) -> None:
    line_a = await meta.line()
    line_b = await meta.line()
    resp = await client.get(
        line_b.tenant.url("/messages/wamid.X/status"), headers=line_a.tenant.headers
    )
    assert resp.status_code == 401


async def test_status_delivery_is_stored_and_processed(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.OUT-1")
    payload = build_status_webhook(
        [StatusUpdate("wamid.OUT-1", "delivered", "14155550100", timestamp=1750000000)],
        phone_number_id=line.phone_number_id,
        waba_id=line.waba_id,
    )
    resp = await meta.post(payload, line.app_secret)
    assert resp.status_code == 200
    assert (await meta.message("wamid.OUT-1")).status == "sent"  # not before the worker
    await meta.drain()
    assert (await meta.message("wamid.OUT-1")).status == "delivered"


def two_numbers(line_a: Any, line_b: Any) -> dict[str, Any]:
    """One delivery with a change for A's number and one for B's."""
    payload = message_for(line_b, "for B")
    payload["entry"].append(message_for(line_a, "smuggled into A")["entry"][0])
    return payload


async def test_one_connections_secret_cannot_sign_for_another_workspace(meta: Meta) -> None:
    line_a = await meta.line()
    line_b = await meta.line()
    resp = await meta.post(two_numbers(line_a, line_b), line_b.app_secret)
    assert resp.status_code == 401
    await meta.drain()
    assert await meta.counts() == NOTHING


async def test_app_level_secret_signs_for_every_workspace(
    meta: Meta, app_settings: Callable[..., None]
) -> None:
    line_a = await meta.line()
    line_b = await meta.line()
    app_settings(meta_app_secret="the-platform-app-secret")
    resp = await meta.post(two_numbers(line_a, line_b), "the-platform-app-secret")
    assert resp.status_code == 200
    await meta.drain()
    assert [m.text for m in await meta.messages(line_a.workspace_id)] == ["smuggled into A"]
    assert [m.text for m in await meta.messages(line_b.workspace_id)] == ["for B"]
