"""The fake Graph server over real HTTP: Meta-shaped answers, validation, programmed failures."""

from __future__ import annotations

import asyncio
import base64
import socket
import sys
import time
from typing import Any

import aiohttp
import pytest

from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.meta_templates import make_template

AUTH = {"Authorization": "Bearer test-token"}
TEXT = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "+14155551234",
    "type": "text",
    "text": {"body": "hello", "preview_url": False},
}
TEMPLATE = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "14155551234",
    "type": "template",
    "template": {"name": "hello_world", "language": {"code": "en_US"}},
}


async def _post(url: str, body: Any, headers: dict[str, str] | None = AUTH) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.post(url, json=body, headers=headers) as r:
        return r.status, await r.json()


async def _get(url: str, **params: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url, params=params, headers=AUTH) as r:
        return r.status, await r.json()


def _assert_meta_error(body: Any, code: int) -> None:
    error = body["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fbtrace_id"], str) and error["fbtrace_id"]


async def test_valid_text_send(fake_graph: FakeGraphServer) -> None:
    status, body = await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    assert status == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+14155551234", "wa_id": "14155551234"}]
    wamid = body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    base64.b64decode(wamid.removeprefix("wamid."), validate=True)  # base64, like Meta's
    assert "message_status" not in body["messages"][0]
    assert fake_graph.schema_violations == []
    [request] = fake_graph.requests
    assert (request.method, request.path, request.json) == ("POST", "/v23.0/555/messages", TEXT)
    assert request.headers["authorization"] == "Bearer test-token"
    assert [(m.wamid, m.wa_id, m.phone_number_id) for m in fake_graph.sent] == [
        (wamid, "14155551234", "555")
    ]


async def test_template_send_is_accepted_and_wamids_are_unique(
    fake_graph: FakeGraphServer,
) -> None:
    results = await asyncio.gather(
        *(_post(f"{fake_graph.base_url}/555/messages", TEMPLATE) for _ in range(20))
    )
    assert {status for status, _ in results} == {200}
    assert {body["messages"][0]["message_status"] for _, body in results} == {"accepted"}
    assert len({body["messages"][0]["id"] for _, body in results}) == 20


async def test_invalid_body_is_a_meta_error_and_a_recorded_violation(
    fake_graph: FakeGraphServer,
) -> None:
    body = {**TEXT, "colour": "red"}
    status, answer = await _post(f"{fake_graph.base_url}/555/messages", body)
    assert status == 400
    _assert_meta_error(answer, 100)
    assert answer["error"]["error_data"]["messaging_product"] == "whatsapp"
    assert "colour" in answer["error"]["error_data"]["details"]
    [violation] = fake_graph.schema_violations
    assert violation.body == body and violation.path == "/v23.0/555/messages"
    assert fake_graph.sent == []


async def test_violation_recorded_even_when_a_failure_is_programmed(
    fake_graph: FakeGraphServer,
) -> None:
    fake_graph.fail_next(1, code=130429)
    status, answer = await _post(f"{fake_graph.base_url}/555/messages", {**TEXT, "x": 1})
    assert status == 400
    _assert_meta_error(answer, 130429)  # the scripted answer wins...
    assert len(fake_graph.schema_violations) == 1  # ...but the bad body is still caught


async def test_non_object_body_is_a_violation(fake_graph: FakeGraphServer) -> None:
    status, answer = await _post(f"{fake_graph.base_url}/555/messages", [1, 2])
    assert status == 400
    _assert_meta_error(answer, 100)
    assert len(fake_graph.schema_violations) == 1


@pytest.mark.parametrize("headers", [None, {"Authorization": "Basic abc"}])
async def test_missing_bearer_is_190(
    fake_graph: FakeGraphServer, headers: dict[str, str] | None
) -> None:
    status, answer = await _post(f"{fake_graph.base_url}/555/messages", TEXT, headers=headers)
    assert status == 401
    _assert_meta_error(answer, 190)
    assert len(fake_graph.requests) == 1  # recorded even when refused
    assert fake_graph.sent == []


async def test_unknown_token_is_190_when_tokens_are_configured(
    fake_graph: FakeGraphServer,
) -> None:
    fake_graph.access_tokens = {"good"}
    status, answer = await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    assert status == 401
    _assert_meta_error(answer, 190)
    status, _ = await _post(
        f"{fake_graph.base_url}/555/messages", TEXT, headers={"Authorization": "Bearer good"}
    )
    assert status == 200


async def test_fail_next_counts_down_and_filters_by_endpoint(fake_graph: FakeGraphServer) -> None:
    fake_graph.fail_next(2, code=130429)
    fake_graph.fail_next(1, code=2, endpoint="message_templates")
    url = f"{fake_graph.base_url}/555/messages"
    first, second, third = [await _post(url, TEXT) for _ in range(3)]
    assert first[0] == second[0] == 400
    _assert_meta_error(first[1], 130429)
    assert "(#130429)" in first[1]["error"]["message"]
    assert third[0] == 200
    status, answer = await _get(f"{fake_graph.base_url}/999/message_templates")
    assert status == 503
    _assert_meta_error(answer, 2)


async def test_fail_next_custom_status_and_message(fake_graph: FakeGraphServer) -> None:
    fake_graph.fail_next(code=131000, status=502, message="upstream", details="boom")
    status, answer = await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    assert status == 502
    assert answer["error"]["message"] == "upstream"
    assert answer["error"]["error_data"]["details"] == "boom"


async def test_fail_for_to_applies_per_recipient(fake_graph: FakeGraphServer) -> None:
    fake_graph.fail_for_to["14155550000"] = (400, 131026, None)
    status, answer = await _post(
        f"{fake_graph.base_url}/555/messages", {**TEXT, "to": "+14155550000"}
    )
    assert status == 400
    _assert_meta_error(answer, 131026)
    assert answer["error"]["message"] == "(#131026) Message undeliverable"
    status, _ = await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    assert status == 200


async def test_media_upload(fake_graph: FakeGraphServer) -> None:
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", "image/png")
    form.add_field("file", b"\x89PNG...", filename="a.png", content_type="image/png")
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{fake_graph.base_url}/555/media", data=form, headers=AUTH) as r,
    ):
        assert r.status == 200
        media_id = (await r.json())["id"]
    assert media_id.isdigit() and len(media_id) == 16
    stored = fake_graph.media[media_id]
    assert (stored.filename, stored.mime_type, stored.data) == ("a.png", "image/png", b"\x89PNG...")
    assert fake_graph.requests[0].form == {
        "messaging_product": "whatsapp",
        "type": "image/png",
        "file": {"filename": "a.png", "content_type": "image/png", "size": 7},
    }


@pytest.mark.parametrize("missing", ["type", "file", "messaging_product"])
async def test_media_upload_requires_every_field(fake_graph: FakeGraphServer, missing: str) -> None:
    form = aiohttp.FormData()
    if missing != "messaging_product":
        form.add_field("messaging_product", "whatsapp")
    if missing != "type":
        form.add_field("type", "image/png")
    if missing != "file":
        form.add_field("file", b"x", filename="a.png", content_type="image/png")
    else:
        form.add_field("file_not", b"x", filename="a.png", content_type="image/png")
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{fake_graph.base_url}/555/media", data=form, headers=AUTH) as r,
    ):
        assert r.status == 400
        _assert_meta_error(await r.json(), 100)
    [violation] = fake_graph.schema_violations
    assert any(missing in e for e in violation.errors)


async def test_template_pages(fake_graph: FakeGraphServer) -> None:
    fake_graph.templates = [make_template(f"t{i}") for i in range(5)]
    url = f"{fake_graph.base_url}/777/message_templates"
    status, page1 = await _get(url, limit="2")
    assert status == 200
    assert [t["name"] for t in page1["data"]] == ["t0", "t1"]
    assert set(page1["data"][0]) >= {"name", "language", "status", "category", "id", "components"}
    assert page1["paging"]["next"].startswith(f"{fake_graph.base_url}/777/message_templates?")
    assert "previous" not in page1["paging"]
    async with aiohttp.ClientSession() as s, s.get(page1["paging"]["next"], headers=AUTH) as r:
        page2 = await r.json()
    assert [t["name"] for t in page2["data"]] == ["t2", "t3"]
    assert "previous" in page2["paging"]
    _, page3 = await _get(url, limit="2", after=page2["paging"]["cursors"]["after"])
    assert [t["name"] for t in page3["data"]] == ["t4"]
    assert "next" not in page3["paging"]
    _, back = await _get(url, limit="2", before=page3["paging"]["cursors"]["before"])
    assert [t["name"] for t in back["data"]] == ["t2", "t3"]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "x"}, {"after": "bogus"}])
async def test_template_bad_paging_is_error_100(
    fake_graph: FakeGraphServer, params: dict[str, str]
) -> None:
    status, answer = await _get(f"{fake_graph.base_url}/777/message_templates", **params)
    assert status == 400
    _assert_meta_error(answer, 100)


async def test_reset_restores_defaults(fake_graph: FakeGraphServer) -> None:
    default_names = [t["name"] for t in fake_graph.templates]
    fake_graph.templates = []
    fake_graph.latency_ms = 5
    fake_graph.fail_next(3)
    await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    fake_graph.reset()
    assert fake_graph.requests == [] and fake_graph.request_count == 0
    assert [t["name"] for t in fake_graph.templates] == default_names
    assert fake_graph.latency_ms == 0
    status, _ = await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    assert status == 200


async def test_a_request_waiting_through_a_reset_is_not_recorded(
    fake_graph: FakeGraphServer,
) -> None:
    """A slow request of one test must not show up as the next test's traffic."""
    fake_graph.latency_ms = 2000
    pending = asyncio.create_task(_post(f"{fake_graph.base_url}/555/messages", TEXT))
    while fake_graph.request_count == 0:  # the request is in, waiting out its latency
        assert not pending.done()
        await asyncio.sleep(0.01)
    fake_graph.reset()
    status, body = await pending
    assert status == 503 and body["error"]["code"] == 2
    assert fake_graph.sent == [] and fake_graph.requests == []


async def test_control_endpoints(fake_graph: FakeGraphServer) -> None:
    root = fake_graph.root_url
    status, _ = await _post(
        f"{root}/_fake/config", {"fail_next": {"n": 1, "code": 131056}, "latency_ms": 1}
    )
    assert status == 200 and fake_graph.latency_ms == 1
    status, _ = await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    assert status == 400
    await _post(f"{fake_graph.base_url}/555/messages", {"bad": 1})
    status, state = await _get(f"{root}/_fake/state")
    assert state["request_count"] == 2 and len(state["schema_violations"]) == 1
    await _post(f"{root}/_fake/reset", {})
    _, state = await _get(f"{root}/_fake/state")
    assert state == {"request_count": 0, "sent": 0, "schema_violations": []}


async def test_latency_is_applied(fake_graph: FakeGraphServer) -> None:
    fake_graph.latency_ms = 150
    started = time.perf_counter()
    status, _ = await _post(f"{fake_graph.base_url}/555/messages", TEXT)
    assert status == 200
    assert time.perf_counter() - started >= 0.15  # lower bound only: never flaky


def test_server_binds_a_free_port_and_stops() -> None:
    server = FakeGraphServer().start()
    try:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v23.0"
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    finally:
        server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


async def test_standalone_cli_serves() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "xobito.testing.fake_graph",
        "--port",
        "0",
        "--latency-ms",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        # The CLI prints its URL once the port is bound; requests queue until it serves.
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode()
        base_url = line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v23.0")
        status, body = await _post(f"{base_url}/1/messages", TEXT)
        assert status == 200 and body["messages"][0]["id"].startswith("wamid.")
        _, state = await _get(f"{base_url.removesuffix('/v23.0')}/_fake/state")
        assert state["request_count"] == 1 and state["schema_violations"] == []
    finally:
        proc.terminate()
        await proc.wait()
