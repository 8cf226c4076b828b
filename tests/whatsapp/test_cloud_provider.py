"""CloudProvider over real HTTP against the fake Graph server: payloads, errors, retries."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.whatsapp.test_whatsapp_payloads import built_payloads
from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.meta_templates import make_template
from xobito.whatsapp import CloudProvider, ConnectionInfo, WhatsAppError, WhatsAppProvider, payloads

MESSAGES = "/v23.0/106540352242922/messages"


def test_cloud_provider_implements_the_interface() -> None:
    assert isinstance(CloudProvider(), WhatsAppProvider)


@pytest.mark.parametrize(("name", "body"), built_payloads().items())
async def test_every_payload_reaches_meta_valid(
    fake_graph: FakeGraphServer,
    provider: CloudProvider,
    conn: ConnectionInfo,
    name: str,
    body: dict[str, Any],
) -> None:
    result = await provider.send_message(conn, body)
    assert fake_graph.schema_violations == []
    [request] = fake_graph.requests
    assert request.path == MESSAGES
    assert request.json == body
    assert request.headers["authorization"] == "Bearer EAAG-test-token"
    assert request.headers["content-type"] == "application/json"
    assert result.wamid == fake_graph.sent[0].wamid and result.wamid.startswith("wamid.")
    assert result.wa_id == "14155551234"
    assert result.raw["messages"][0]["id"] == result.wamid
    assert result.message_status == ("accepted" if body["type"] == "template" else None)


async def test_invalid_payload_is_refused_not_retried(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    body = payloads.interactive_buttons("14155551234", "b", [{"id": "x", "title": "t" * 21}])
    with pytest.raises(WhatsAppError) as info:
        await provider.send_message(conn, body)
    assert info.value.code == 100 and not info.value.retryable
    assert len(fake_graph.requests) == 1
    assert len(fake_graph.schema_violations) == 1  # the fake caught it, as Meta would


@pytest.mark.parametrize(
    ("code", "status"),
    [(130429, None), (131056, None), (131000, 500), (2, 503), (4, 429), (133004, None)],
)
async def test_retryable_errors_are_retried_then_succeed(
    fake_graph: FakeGraphServer,
    provider: CloudProvider,
    conn: ConnectionInfo,
    code: int,
    status: int | None,
) -> None:
    fake_graph.fail_next(2, code=code, status=status)
    result = await provider.send_message(conn, payloads.text_message("14155551234", "hi"))
    assert result.wamid.startswith("wamid.")
    assert len(fake_graph.requests_to("messages")) == 3  # 2 failures + the success
    assert len(fake_graph.sent) == 1
    assert fake_graph.schema_violations == []


@pytest.mark.parametrize(
    ("code", "http_status"),
    [(131047, 400), (131026, 400), (132000, 400), (100, 400), (190, 401)],
)
async def test_non_retryable_errors_fail_at_once(
    fake_graph: FakeGraphServer,
    provider: CloudProvider,
    conn: ConnectionInfo,
    code: int,
    http_status: int,
) -> None:
    fake_graph.fail_next(5, code=code)
    with pytest.raises(WhatsAppError) as info:
        await provider.send_message(conn, payloads.text_message("14155551234", "hi"))
    error = info.value
    assert (error.code, error.http_status, error.retryable) == (code, http_status, False)
    assert str(error).startswith(f"{code}: ")
    assert len(fake_graph.requests) == 1


async def test_per_recipient_failure(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    fake_graph.fail_for_to["14155550000"] = (400, 131026, None)
    with pytest.raises(WhatsAppError) as info:
        await provider.send_message(conn, payloads.text_message("+14155550000", "hi"))
    assert str(info.value) == "131026: Message undeliverable"
    ok = await provider.send_message(conn, payloads.text_message("+14155551234", "hi"))
    assert ok.wa_id == "14155551234"
    assert len(fake_graph.requests) == 2


async def test_retries_exhausted_raise_retryable_error(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    fake_graph.fail_next(10, code=130429)
    with pytest.raises(WhatsAppError) as info:
        await provider.send_message(conn, payloads.text_message("14155551234", "hi"))
    assert info.value.code == 130429 and info.value.retryable
    assert len(fake_graph.requests) == provider.max_attempts == 3


async def test_max_attempts_one_means_no_retry(
    fake_graph: FakeGraphServer, conn: ConnectionInfo
) -> None:
    fake_graph.fail_next(1, code=131056)
    async with CloudProvider(fake_graph.base_url, max_attempts=1) as single:
        with pytest.raises(WhatsAppError):
            await single.send_message(conn, payloads.text_message("1415", "hi"))
    assert len(fake_graph.requests) == 1


async def test_network_error(closed_port: int, conn: ConnectionInfo) -> None:
    async with CloudProvider(f"http://127.0.0.1:{closed_port}/v23.0", base_delay=0.001) as p:
        with pytest.raises(WhatsAppError) as info:
            await p.send_message(conn, payloads.text_message("14155551234", "hi"))
    assert info.value.code is None and info.value.http_status is None
    assert info.value.retryable
    assert str(info.value).startswith("None: Network error")


async def test_timeout_is_a_retryable_network_error(conn: ConnectionInfo) -> None:
    # A private server: the abandoned slow requests finish after the test and must not leak
    # into the shared fake's records.
    with FakeGraphServer(latency_ms=500) as slow:
        async with CloudProvider(
            slow.base_url, timeout=0.05, max_attempts=2, base_delay=0.001
        ) as p:
            with pytest.raises(WhatsAppError) as info:
                await p.send_message(conn, payloads.text_message("14155551234", "hi"))
        assert info.value.retryable and info.value.code is None
        assert "Network error" in str(info.value)


async def test_latency_is_observed_by_the_client(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    fake_graph.latency_ms = 120
    started = time.perf_counter()
    await provider.send_message(conn, payloads.text_message("14155551234", "hi"))
    assert time.perf_counter() - started >= 0.12  # lower bound only


async def test_upload_media(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    data = bytes(range(256)) * 40
    media_id = await provider.upload_media(conn, data, "image/jpeg", "photo.jpg")
    stored = fake_graph.media[media_id]
    assert (stored.data, stored.mime_type, stored.filename) == (data, "image/jpeg", "photo.jpg")
    assert stored.phone_number_id == conn.phone_number_id
    [request] = fake_graph.requests
    assert request.path == "/v23.0/106540352242922/media"
    assert request.headers["authorization"] == "Bearer EAAG-test-token"
    assert request.form is not None
    assert request.form["messaging_product"] == "whatsapp"
    assert request.form["type"] == "image/jpeg"
    assert request.form["file"]["size"] == len(data)
    assert fake_graph.schema_violations == []
    # The id then works in a media message.
    await provider.send_message(conn, payloads.media("14155551234", "image", media_id=media_id))
    assert fake_graph.schema_violations == []


async def test_upload_media_retries_with_a_fresh_form(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    fake_graph.fail_next(1, code=131000, endpoint="media")
    media_id = await provider.upload_media(conn, b"%PDF-1.4", "application/pdf", "a.pdf")
    assert fake_graph.media[media_id].data == b"%PDF-1.4"
    assert len(fake_graph.requests) == 2


async def test_list_templates_follows_every_page(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    fake_graph.templates = [make_template(f"tpl_{i}", template_id=str(1000 + i)) for i in range(7)]
    templates = await provider.list_templates(conn, page_size=3)
    assert [t["name"] for t in templates] == [f"tpl_{i}" for i in range(7)]
    assert templates[0]["id"] == "1000" and templates[0]["status"] == "APPROVED"
    requests = fake_graph.requests
    assert len(requests) == 3  # pages of 3, 3, 1
    assert {r.path for r in requests} == {"/v23.0/419561257915477/message_templates"}
    assert "after" not in requests[0].query
    assert all("after" in r.query and r.query["limit"] == "3" for r in requests[1:])


async def test_list_templates_empty_and_retried(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    fake_graph.templates = []
    fake_graph.fail_next(1, code=2, endpoint="message_templates")
    assert await provider.list_templates(conn) == []
    assert len(fake_graph.requests) == 2


async def test_one_pooled_session_for_concurrent_sends(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    bodies = [payloads.text_message(f"1415555{i:04d}", f"m{i}") for i in range(100)]
    results = await asyncio.gather(*(provider.send_message(conn, b) for b in bodies))
    assert len({r.wamid for r in results}) == 100
    assert [r.wa_id for r in results] == [b["to"] for b in bodies]
    assert fake_graph.schema_violations == []
    session = provider._session
    await provider.send_message(conn, bodies[0])
    assert provider._session is session  # reused, not one per call


async def test_close_is_idempotent_and_reopens_lazily(
    fake_graph: FakeGraphServer, conn: ConnectionInfo
) -> None:
    p = CloudProvider(fake_graph.base_url)
    await p.close()  # never opened
    await p.send_message(conn, payloads.text_message("1415", "a"))
    await p.close()
    await p.close()
    await p.send_message(conn, payloads.text_message("1415", "b"))
    await p.close()
    assert len(fake_graph.sent) == 2


def test_backoff_is_bounded_and_jittered() -> None:
    p = CloudProvider(base_delay=0.5, max_delay=4.0)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 4.0)]:
        delays = {p.backoff_delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_constructor_validates_and_defaults() -> None:
    assert CloudProvider().base_url == "https://graph.facebook.com/v23.0"
    assert CloudProvider("http://x/v23.0/").base_url == "http://x/v23.0"
    with pytest.raises(ValueError):
        CloudProvider(max_attempts=0)
    assert "token" not in repr(ConnectionInfo("1", "2", "secret-token"))
