"""Retries: 429 honouring ``retry_after``, 5xx and connection errors with jittered backoff, and
the ``Idempotency-Key`` that makes a retried POST safe (the server replays, Meta sees one send).

No test waits: each client gets an injected ``sleep`` that records the delay (and, for the
rate limit, lets the limit window pass by resetting the real limiter)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.factories import Factory
from tests.message.conftest import Messaging
from tests.sdk.conftest import MakeClient, Scripted, Sleeps
from xobito_client import ConflictError, NotFoundError, RateLimitError, ServerError

from xobito.testing.fake_graph import FakeGraphServer

PHONE = "+14155551234"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def test_429_waits_the_servers_retry_after_then_succeeds(
    sdk: MakeClient, factory: Factory, app: FastAPI, asgi: httpx.ASGITransport
) -> None:
    t = await factory.tenant(rate_limit_max=1)
    said: list[int] = []

    async def remember(response: httpx.Response) -> None:
        if response.status_code == 429:
            await response.aread()
            said.append(response.json()["retry_after"])

    sleeps = Sleeps(then=app.state.limiter.reset)  # the window passes while we "wait"
    http = httpx.AsyncClient(transport=asgi, event_hooks={"response": [remember]})
    async with http:
        client = sdk(t, http_client=http, sleep=sleeps)
        await client.statuses.list()
        page = await client.statuses.list()  # 429 first, then admitted after the wait
    assert page.total == 0
    assert len(said) == 1 and said[0] >= 1
    assert sleeps.calls == [float(said[0])]


async def test_429_gives_up_after_max_retries(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    t = await factory.tenant(rate_limit_max=1)
    spy = Scripted(asgi)
    client = sdk(t, transport=spy, max_retries=3)
    await client.sources.list()
    with pytest.raises(RateLimitError) as caught:
        await client.sources.list()
    assert [s.status for s in spy.sent] == [200, 429, 429, 429, 429]
    assert len(client.sleeps.calls) == 3
    assert all(1 <= d <= 60 for d in client.sleeps.calls)
    assert caught.value.retry_after is not None


async def test_monthly_quota_wait_is_too_long_to_retry(sdk: MakeClient, factory: Factory) -> None:
    t = await factory.tenant(token_fields={"monthly_quota": 1})
    client = sdk(t)
    await client.groups.list()
    with pytest.raises(RateLimitError) as caught:
        await client.groups.list()
    assert caught.value.message == "Monthly quota exceeded"
    assert (caught.value.retry_after or 0) > 60  # seconds until next month
    assert client.sleeps.calls == []


async def test_503_is_retried_with_jittered_exponential_backoff(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    t = await factory.tenant()
    spy = Scripted(asgi, ["503", "503", "503"])
    client = sdk(t, transport=spy, max_retries=3)
    assert (await client.statuses.list()).total == 0
    assert [s.outcome for s in spy.sent] == ["503", "503", "503", "passed"]
    first, second, third = client.sleeps.calls
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0 and 1.5 <= third <= 2.0


async def test_503_beyond_max_retries_is_server_error(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    spy = Scripted(asgi, ["503"] * 5)
    client = sdk(await factory.tenant(), transport=spy, max_retries=1)
    with pytest.raises(ServerError) as caught:
        await client.contacts.list()
    assert caught.value.status == 503
    assert len(spy.sent) == 2


async def test_no_retries_when_max_retries_is_zero(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    spy = Scripted(asgi, ["503"])
    client = sdk(await factory.tenant(), transport=spy, max_retries=0)
    with pytest.raises(ServerError):
        await client.contacts.list()
    assert len(spy.sent) == 1 and client.sleeps.calls == []


async def test_lost_send_response_is_retried_and_replayed_not_resent(
    sdk: MakeClient, messaging: Messaging, cloud: FakeGraphServer, asgi: httpx.ASGITransport
) -> None:
    ct = await messaging.cloud_tenant()
    await messaging.patch_workspace(ct.tenant, enforce_care_window=False)
    spy = Scripted(asgi, ["lose-response"])
    client = sdk(ct.tenant, transport=spy)

    sent = await client.messages.send_text(PHONE, "Exactly once")

    assert [(s.outcome, s.status) for s in spy.sent] == [("lose-response", 200), ("passed", 200)]
    keys = {s.headers["idempotency-key"] for s in spy.sent}
    assert len(keys) == 1 and keys.pop().startswith("xobito-")
    assert spy.sent[0].body == spy.sent[1].body
    [meta] = cloud.sent  # exactly one message reached the Graph API
    assert sent.message_id == meta.wamid
    assert len(await messaging.messages(ct.tenant)) == 1


async def test_lost_multipart_upload_is_replayed_with_the_same_bytes(
    sdk: MakeClient, messaging: Messaging, cloud: FakeGraphServer, asgi: httpx.ASGITransport
) -> None:
    """A multipart body has a random boundary: it is built once, so the retry is the same
    request (a rebuilt body would be refused as a different request with the same key)."""
    ct = await messaging.cloud_tenant()
    await messaging.patch_workspace(ct.tenant, enforce_care_window=False)
    spy = Scripted(asgi, ["lose-response"])
    client = sdk(ct.tenant, transport=spy)

    sent = await client.messages.send_media(PHONE, "image", file=("p.png", PNG), caption="Hi")

    assert [s.status for s in spy.sent] == [200, 200]
    assert spy.sent[0].body == spy.sent[1].body
    assert len(cloud.media) == 1 and len(cloud.sent) == 1
    assert sent.message_id == cloud.sent[0].wamid


async def test_connection_refused_then_created_once(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    spy = Scripted(asgi, ["connect-error", "lose-response"])
    client = sdk(await factory.tenant(), transport=spy)
    group = await client.groups.create("Only once")
    assert [s.outcome for s in spy.sent] == ["connect-error", "lose-response", "passed"]
    assert [g.id async for g in client.groups.iter()] == [group.id]


async def test_a_given_idempotency_key_replays_across_calls(
    sdk: MakeClient, factory: Factory
) -> None:
    client = sdk(await factory.tenant())
    first = await client.sources.create("Fair", idempotency_key="create-fair-2026")
    again = await client.sources.create("Fair", idempotency_key="create-fair-2026")
    assert again == first
    assert (await client.sources.list()).total == 1
    other = await client.sources.create("Fair 2")  # a fresh key per call otherwise
    assert other.id != first.id


async def test_key_in_progress_is_retried_then_conflict(
    sdk: MakeClient, factory: Factory, app: FastAPI, asgi: httpx.ASGITransport
) -> None:
    t = await factory.tenant()
    # Another request holding this key is still at work (its reservation is committed).
    held = await app.state.idempotency.begin(t.token_id, "busy-key", "digest-of-the-other")
    spy = Scripted(asgi)
    client = sdk(t, transport=spy, max_retries=2)
    try:
        with pytest.raises(ConflictError) as caught:
            await client.groups.create("Busy", idempotency_key="busy-key")
    finally:
        app.state.idempotency.finish(held)
    assert caught.value.message == "A request with this idempotency key is in progress"
    assert [s.status for s in spy.sent] == [409, 409, 409]
    assert len(client.sleeps.calls) == 2


async def test_delete_whose_answer_was_lost_succeeds_on_the_retry(
    sdk: MakeClient, factory: Factory, asgi: httpx.ASGITransport
) -> None:
    """The first DELETE did the work; its retry finds nothing (404): the record is gone, as
    asked, so the call succeeds. A plain 404 (no lost answer before it) still raises."""
    t = await factory.tenant()
    group = await factory.group(t)
    spy = Scripted(asgi, ["lose-response"])
    client = sdk(t, transport=spy)
    await client.groups.delete(group.id)
    assert [(s.outcome, s.status) for s in spy.sent] == [("lose-response", 200), ("passed", 404)]
    assert (await client.groups.list()).total == 0
    with pytest.raises(NotFoundError):
        await client.groups.delete(group.id)
