"""Accepting Meta webhooks fast (docs/webhooks.md): group-committed inbox rows and cached
signers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.inbound.conftest import Line, Meta
from xobito.inbound.repository import MAX_GROUP, InboxWriter
from xobito.inbound.scope import EVERYONE
from xobito.kit.db import make_engine
from xobito.kit.ttl_cache import configure_shared_caches
from xobito.models import InboxEvent
from xobito.testing.meta_webhooks import build_text_message_webhook


async def stored(app: FastAPI) -> list[InboxEvent]:
    async with app.state.sessionmaker() as s:
        return list((await s.execute(select(InboxEvent).order_by(InboxEvent.id))).scalars())


async def test_concurrent_bodies_are_stored_by_one_multi_row_insert(app: FastAPI) -> None:
    writer = InboxWriter(app.state.engine)
    bodies = [b'{"n": %d}' % i for i in range(20)]
    await asyncio.gather(*(writer.add(body, EVERYONE) for body in bodies))
    rows = await stored(app)
    assert sorted(r.body for r in rows) == sorted(bodies)
    assert len({r.received_at for r in rows}) == 1  # one statement wrote them all
    assert {(r.processed_at, r.attempts, r.error) for r in rows} == {(None, 0, None)}


async def test_a_group_is_bounded_and_every_caller_waits_for_its_own_row(app: FastAPI) -> None:
    writer = InboxWriter(app.state.engine)
    bodies = [b'{"n": %d}' % i for i in range(MAX_GROUP + 3)]
    await asyncio.gather(*(writer.add(body, EVERYONE) for body in bodies))
    assert sorted(r.body for r in await stored(app)) == sorted(bodies)
    await writer.add(b'{"later": true}', EVERYONE)  # a new group after the writer went idle
    assert len(await stored(app)) == MAX_GROUP + 4


async def test_large_bodies_are_split_into_groups_by_size(app: FastAPI) -> None:
    writer = InboxWriter(app.state.engine)
    big = 3 * 1024 * 1024  # the largest body the endpoint accepts
    bodies = [bytes([65 + i]) * big for i in range(5)]
    await asyncio.gather(*(writer.add(body, EVERYONE) for body in bodies))
    rows = await stored(app)
    assert sorted(r.body for r in rows) == bodies
    assert len({r.received_at for r in rows}) >= 3  # at most two such bodies per INSERT


async def test_a_failed_group_fails_each_of_its_callers_and_the_next_group_works(
    app: FastAPI,
) -> None:
    writer = InboxWriter(app.state.engine)
    bad: bytes = "not bytes"  # type: ignore[assignment]
    calls = (writer.add(b'{"ok": 1}', EVERYONE), writer.add(bad, EVERYONE))
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results), results
    assert await stored(app) == []  # nothing of the failed group was kept
    await writer.add(b'{"ok": 2}', EVERYONE)
    assert [r.body for r in await stored(app)] == [b'{"ok": 2}']


@pytest.fixture
def caching(app: FastAPI) -> Iterator[None]:
    """Per-process caches on, as in production (the test settings turn them off)."""
    configure_shared_caches(60)
    yield
    configure_shared_caches(app.state.settings.auth_cache_seconds)


def hello(line: Line, phone_number_id: str | None = None) -> dict[str, object]:
    return build_text_message_webhook(
        "16505551234",
        "hello",
        phone_number_id=phone_number_id or line.phone_number_id,
        waba_id=line.waba_id,
    )


async def reconnect(meta: Meta, line: Line, **change: object) -> None:
    body = {
        "provider": "cloud",
        "waba_id": line.waba_id,
        "phone_number_ids": [line.phone_number_id],
        "access_token": "EAAG-token",
        "app_secret": line.app_secret,
        **change,
    }
    url = f"/api/admin/workspaces/{line.tenant.workspace.subdomain}/whatsapp"
    resp = await meta.client.put(url, json=body, headers=meta.admin)
    assert resp.status_code == 200, resp.text


async def test_a_new_app_secret_applies_at_once_despite_the_cache(
    meta: Meta, caching: None
) -> None:
    line = await meta.line()
    assert (await meta.post(hello(line), line.app_secret)).status_code == 200  # now cached
    assert (await meta.post(hello(line), line.app_secret)).status_code == 200
    await reconnect(meta, line, app_secret="rotated-secret")
    assert (await meta.post(hello(line), line.app_secret)).status_code == 401
    assert (await meta.post(hello(line), "rotated-secret")).status_code == 200


async def test_a_number_connected_after_a_refusal_is_accepted_at_once(
    meta: Meta, caching: None
) -> None:
    line = await meta.line()
    later = "106540352249999"
    assert (await meta.post(hello(line, later), line.app_secret)).status_code == 401
    await reconnect(meta, line, phone_number_ids=[line.phone_number_id, later])
    assert (await meta.post(hello(line, later), line.app_secret)).status_code == 200
    assert len(await meta.inbox()) == 1


async def test_a_store_that_fails_answers_500_with_the_envelope_and_no_trace(
    app: FastAPI, meta: Meta
) -> None:
    """Meta retries a webhook that did not get a 200: a failed write must say so (500), in
    the spec's envelope, without internals."""
    line = await meta.line()
    broken = make_engine(app.state.settings.database_url.replace("/xobito", "/nonexistent_db"))
    if app.state.engine.dialect.name == "sqlite":
        broken = make_engine("sqlite+aiosqlite:////nonexistent-dir/xobito.db")
    working, app.state.inbox_writer = app.state.inbox_writer, InboxWriter(broken)
    try:
        resp = await meta.post(hello(line), line.app_secret)
    finally:
        app.state.inbox_writer = working
        await broken.dispose()
    assert resp.status_code == 500
    assert resp.json() == {"status": "error", "message": "Failed to receive webhook"}
    assert await stored(app) == []
