"""The inbox's event stream against real server processes (an ASGI test transport buffers
a whole response, so an endless stream is read from uvicorn): resume by ``Last-Event-ID``
with exactly the missed events in order, a change made through one process reaching a
stream on another, and each workspace's stream holding its own events only."""

from __future__ import annotations

import asyncio
import re
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.factories import PASSWORD, Factory
from tests.servers import Server, running_servers
from xobito.live.publish import publish
from xobito.web.events import heartbeat_wait

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
ENV = {
    "XOBITO_AUTH_CACHE_SECONDS": "0",
    "XOBITO_PASSWORD_HASHING": "fast",
    "XOBITO_LIVE_HEARTBEAT_SECONDS": "1",
    "XOBITO_LIVE_POLL_SECONDS": "0.2",
}
Event = tuple[int | None, str, str]
LINES: weakref.WeakKeyDictionary[httpx.Response, AsyncIterator[str]] = (
    weakref.WeakKeyDictionary()
)  # one line reader per open stream


@pytest.fixture(scope="module")
def servers(backend: Backend) -> Iterator[list[Server]]:
    with running_servers(backend, ADMIN_KEY, 2, ENV) as found:
        yield found


async def signed_in(base: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=10)
    page = await client.get("/app/login")
    token = META_CSRF.search(page.text)
    assert token is not None
    r = await client.post(
        "/app/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert r.status_code == 303, r.text
    return client


@asynccontextmanager
async def stream(
    client: httpx.AsyncClient, path: str, last_id: int | None = None
) -> AsyncIterator[httpx.Response]:
    headers = {"Last-Event-ID": str(last_id)} if last_id is not None else {}
    async with client.stream("GET", path, headers=headers, timeout=httpx.Timeout(10, read=30)) as r:
        yield r


async def read_events(
    response: httpx.Response, count: int, within: float = 20, skip: tuple[str, ...] = ()
) -> list[Event]:
    """The next ``count`` events (comments and ``skip`` kinds left out), or fail after
    ``within`` seconds."""
    found: list[Event] = []
    block: list[str] = []
    lines = LINES.get(response)
    if lines is None:
        lines = LINES[response] = response.aiter_lines()
    deadline = time.monotonic() + within
    while len(found) < count:
        async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
            line = await lines.__anext__()
        if line:
            block.append(line)
            continue
        fields: dict[str, str] = {}
        for item in block:
            key, _, value = item.partition(": ")
            if key and not item.startswith(":"):
                fields[key] = value
        block = []
        if "event" in fields and fields["event"] not in skip:
            found.append(
                (
                    int(fields["id"]) if "id" in fields else None,
                    fields["event"],
                    fields.get("data", ""),
                )
            )
    return found


async def test_reconnect_with_last_event_id_gets_exactly_the_missed_events(
    servers: list[Server], factory: Factory, app: FastAPI
) -> None:
    t = await factory.tenant()
    user = await factory.user(t.workspace, "agent")
    client = await signed_in(servers[0].url, user.email)
    path = f"/app/{t.workspace.subdomain}/events"
    try:
        async with stream(client, path) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-store"
            assert r.headers["x-accel-buffering"] == "no"
            await emit(app, t.workspace.id, 1, start=0)
            ((last_seen, kind, _),) = await read_events(r, 1)
            assert kind == "message" and last_seen is not None
        # Disconnected: 50 events happen, from concurrent writers.
        await asyncio.gather(*(emit(app, t.workspace.id, 10, start=1 + 10 * k) for k in range(5)))
        async with stream(client, path, last_seen) as r:
            got = await read_events(r, 50)
            chats = sorted(orjson.loads(d)["chat"] for _, _, d in got)
            assert chats == list(range(1, 51))  # exactly those 50, none twice
            ids = [i for i, _, _ in got]
            assert None not in ids and ids == sorted(ids) and len(set(ids)) == 50
            assert ids[0] > last_seen
            await emit(app, t.workspace.id, 1, start=99)  # and it goes on live
            ((_, _, data),) = await read_events(r, 1)
            assert orjson.loads(data)["chat"] == 99
    finally:
        await client.aclose()


async def emit(app: FastAPI, workspace_id: int, n: int, start: int) -> None:
    for i in range(start, start + n):
        async with app.state.sessionmaker() as session:
            publish(session, workspace_id, "message", chat_id=i)
            await session.commit()


async def test_a_change_through_process_a_reaches_a_stream_on_process_b(
    servers: list[Server],
    factory: Factory,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    a, b = servers
    t = await factory.tenant()
    user = await factory.user(t.workspace, "agent")
    r = await client.post(  # a customer writes (stored by this test's worker)
        f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound",
        json={"phone_number": "+14155550901", "text": "Hi", "profile_name": "Ann"},
        headers=admin_headers,
    )
    assert r.status_code == 202, r.text
    await app.state.worker.drain()
    chats = (await client.get(t.url("/chats"), headers=t.headers)).json()["data"]["data"]
    chat = chats[0]["id"]
    watcher = await signed_in(b.url, user.email)
    api = httpx.AsyncClient(base_url=a.url, timeout=10)
    try:
        async with stream(watcher, f"/app/{t.workspace.subdomain}/events") as r:
            assert r.status_code == 200
            changed = await api.post(t.url(f"/chats/{chat}/resolve"), headers=t.headers)
            assert changed.status_code == 200, changed.text
            ((_, kind, data),) = await read_events(r, 1)
            assert kind == "conversation"
            assert orjson.loads(data) == {"chat": chat, "message": None, "change": "resolved"}
    finally:
        await watcher.aclose()
        await api.aclose()


async def test_streams_are_per_workspace_and_members_only(
    servers: list[Server], factory: Factory, app: FastAPI
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    user_a = await factory.user(a.workspace, "agent")
    client = await signed_in(servers[0].url, user_a.email)
    anonymous = httpx.AsyncClient(base_url=servers[0].url, timeout=10)
    try:
        r = await client.get(f"/app/{b.workspace.subdomain}/events")
        assert r.status_code == 404
        r = await anonymous.get(f"/app/{a.workspace.subdomain}/events")
        assert r.status_code in (302, 303) and "/app/login" in r.headers["location"]
        async with stream(client, f"/app/{a.workspace.subdomain}/events") as r:
            await emit(app, b.workspace.id, 3, start=500)  # another workspace's, first
            await emit(app, a.workspace.id, 1, start=7)
            # A long-running server may first tell the page to resync (the suite restores
            # the database between tests, so event ids go back); then the stream goes on.
            ((_, _, data),) = await read_events(r, 1, skip=("resync",))
            assert orjson.loads(data)["chat"] == 7
    finally:
        await client.aclose()
        await anonymous.aclose()


async def raw_lines_until(
    response: httpx.Response, wanted: str | None, within: float = 10
) -> list[str]:
    """Lines of the stream up to and including one starting with ``wanted``; with ``None``,
    up to the end of the stream. Fails after ``within`` seconds."""
    lines = LINES.get(response)
    if lines is None:
        lines = LINES[response] = response.aiter_lines()
    seen: list[str] = []
    async with asyncio.timeout(within):
        async for line in lines:
            seen.append(line)
            if wanted is not None and line.startswith(wanted):
                return seen
    assert wanted is None, f"the stream ended before {wanted!r}: {seen}"
    return seen


async def test_an_idle_stream_gets_heartbeats_and_ends_when_its_user_signs_out(
    servers: list[Server], factory: Factory
) -> None:
    tenant = await factory.tenant()
    user = await factory.user(tenant.workspace, "agent")
    client = await signed_in(servers[0].url, user.email)
    try:
        page = await client.get(f"/app/{tenant.workspace.subdomain}/inbox")
        token = META_CSRF.search(page.text)
        assert token is not None
        async with stream(client, f"/app/{tenant.workspace.subdomain}/events") as r:
            # Nothing happens in the workspace: proxies still see bytes (XOBITO_LIVE_
            # HEARTBEAT_SECONDS is 1 here), and each heartbeat re-checks the session.
            await raw_lines_until(r, ": heartbeat")
            await raw_lines_until(r, ": heartbeat")
            out = await client.post(
                "/app/logout",
                data={"csrf_token": token.group(1)},
                headers={"Sec-Fetch-Site": "same-origin"},
            )
            assert out.status_code == 303
            # Signed out: the stream ends at its next session check (an endless stream
            # fails here after 10 s).
            await raw_lines_until(r, None)
    finally:
        await client.aclose()


def test_heartbeats_are_spread_so_streams_opened_together_do_not_check_at_once() -> None:
    waits = [heartbeat_wait(10.0) for _ in range(200)]
    assert all(5.0 <= w <= 10.0 for w in waits)
    assert max(waits) - min(waits) > 2.5  # spread over the range, not one instant
