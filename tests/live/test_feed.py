"""The feed: events in id order per workspace, catch-up from the database, resync, gaps."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.backends import Backend
from tests.factories import Factory
from tests.live.conftest import frames, json_renderer
from xobito.config import Settings
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.live.feed import Feed
from xobito.live.publish import publish


async def emit(app: FastAPI, ws: int, n: int, start: int = 0) -> None:
    """``n`` events of ``ws``, one commit each (chat ids count up from ``start``)."""
    for i in range(start, start + n):
        async with app.state.sessionmaker() as session:
            publish(session, ws, "message", chat_id=i)
            await session.commit()


async def collect(sub: object, count: int) -> list[tuple[int | None, str, str]]:
    got: list[tuple[int | None, str, str]] = []
    while len(got) < count:
        chunk = await sub.next(5.0)  # type: ignore[attr-defined]
        assert chunk is not None, f"only {len(got)} of {count} events arrived: {got}"
        got += frames(chunk)
    return got


async def test_streams_get_their_workspace_events_in_order(
    app: FastAPI, factory: Factory, feed: Feed
) -> None:
    a, b = (await factory.tenant()).workspace.id, (await factory.tenant()).workspace.id
    sub_a = await feed.subscribe(a, None)
    sub_b = await feed.subscribe(b, None)
    await emit(app, a, 3)
    await emit(app, b, 1, start=100)
    got_a = await collect(sub_a, 3)
    assert [(kind, orjson.loads(data)["chat"]) for _, kind, data in got_a] == [
        ("message", 0),
        ("message", 1),
        ("message", 2),
    ]
    ids = [i for i, _, _ in got_a]
    assert ids == sorted(ids) and len(set(ids)) == 3
    got_b = await collect(sub_b, 1)
    assert [orjson.loads(d) for _, _, d in got_b] == [{"ws": b, "chat": 100, "data": None}]
    assert await sub_a.next(0.2) is None  # nothing of b's, nothing twice


@pytest.mark.parametrize("keep", [1000, 10], ids=["kept-frames", "from-database"])
async def test_reconnect_gets_exactly_the_missed_events(
    app: FastAPI, factory: Factory, keep: int
) -> None:
    feed = Feed(app.state.sessionmaker, json_renderer, poll_seconds=0.05, keep=keep, linger=60)
    try:
        ws = (await factory.tenant()).workspace.id
        first = await feed.subscribe(ws, None)
        await emit(app, ws, 1)
        ((last_seen, _, _),) = await collect(first, 1)
        assert last_seen is not None
        feed.unsubscribe(first)  # the browser went away
        watcher = await feed.subscribe(ws, None)  # another page keeps the feed reading
        await emit(app, ws, 50, start=1)
        await collect(watcher, 50)
        again = await feed.subscribe(ws, last_seen)  # reconnect with Last-Event-ID
        got = await collect(again, 50)
        assert [orjson.loads(d)["chat"] for _, _, d in got] == list(range(1, 51))
        ids = [i for i, _, _ in got]
        assert ids == sorted(ids) and len(set(ids)) == 50 and ids[0] > last_seen
        assert await again.next(0.2) is None
    finally:
        await feed.close()


async def test_too_far_behind_gets_one_resync(app: FastAPI, factory: Factory) -> None:
    feed = Feed(app.state.sessionmaker, json_renderer, poll_seconds=0.05, keep=5, max_behind=20)
    try:
        ws = (await factory.tenant()).workspace.id
        watcher = await feed.subscribe(ws, None)
        start = feed.cursor
        for i in range(30):  # a page that keeps up
            await emit(app, ws, 1, start=i)
            await collect(watcher, 1)
        behind = await feed.subscribe(ws, start)
        got = await collect(behind, 1)
        assert [(kind, i) for i, kind, _ in got] == [("resync", feed.cursor)]
        await emit(app, ws, 1, start=99)  # and goes on from there
        assert [orjson.loads(d)["chat"] for _, _, d in await collect(behind, 1)] == [99]
    finally:
        await feed.close()


@pytest.fixture
async def other_session(settings: Settings, backend: Backend):  # type: ignore[no-untyped-def]
    if backend.name != "postgres":
        pytest.skip("concurrent writers need PostgreSQL (SQLite has one writer)")
    engine = make_engine(settings.database_url)
    async with make_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


INSERT = text(
    "INSERT INTO live_events (workspace_id, kind, chat_id, created_at) "
    "VALUES (:ws, 'message', :chat, now()) RETURNING id"
)


async def test_an_id_committed_late_is_waited_for(
    app: FastAPI, factory: Factory, feed: Feed, other_session
) -> None:  # type: ignore[no-untyped-def]
    ws = (await factory.tenant()).workspace.id
    sub = await feed.subscribe(ws, None)
    slow = (await other_session.execute(INSERT, {"ws": ws, "chat": 1})).scalar_one()
    await emit(app, ws, 1, start=2)  # commits id slow + 1 first
    assert await sub.next(0.15) is None  # the gap is waited for (gap_wait 0.3 s)
    await other_session.commit()
    got = await collect(sub, 2)
    assert [(i, orjson.loads(d)["chat"]) for i, _, d in got] == [(slow, 1), (slow + 1, 2)]


async def test_a_rolled_back_id_is_given_up_and_a_late_one_still_arrives(
    app: FastAPI, factory: Factory, feed: Feed, other_session
) -> None:  # type: ignore[no-untyped-def]
    ws = (await factory.tenant()).workspace.id
    sub = await feed.subscribe(ws, None)
    await other_session.execute(INSERT, {"ws": ws, "chat": 1})
    await other_session.rollback()
    await emit(app, ws, 1, start=2)
    got = await collect(sub, 1)  # after gap_wait
    assert [orjson.loads(d)["chat"] for _, _, d in got] == [2]

    late = (await other_session.execute(INSERT, {"ws": ws, "chat": 3})).scalar_one()
    await emit(app, ws, 1, start=4)
    assert [orjson.loads(d)["chat"] for _, _, d in await collect(sub, 1)] == [4]
    await other_session.commit()  # long after: handed out late, without an id
    await emit(app, ws, 1, start=5)  # wake the feed
    got = await collect(sub, 2)
    assert sorted((i, orjson.loads(d)["chat"]) for i, _, d in got if i is None) == [(None, 3)]
    assert late < max(i for i, _, _ in got if i is not None)


async def test_ids_that_go_back_restart_the_feed_and_resync_the_streams(
    app: FastAPI, factory: Factory, feed: Feed, backend: Backend
) -> None:
    """A database restored from a backup, or a reset id sequence (what the test suite does
    between tests), numbers new events below the feed's cursor: they still reach the
    streams."""
    ws = (await factory.tenant()).workspace.id
    sub = await feed.subscribe(ws, None)
    await emit(app, ws, 3)
    before = [i for i, _, _ in await collect(sub, 3)]
    async with app.state.engine.begin() as conn:
        await conn.execute(text("DELETE FROM live_events"))
        if backend.name != "postgres":
            await conn.execute(text("DELETE FROM sqlite_sequence WHERE name = 'live_events'"))
        else:
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('live_events', 'id'), 1, false)")
            )
    await emit(app, ws, 2, start=10)
    got = await collect(sub, 3)
    assert got[0][1] == "resync"  # the page refetches what it shows
    assert [orjson.loads(d)["chat"] for _, kind, d in got[1:]] == [10, 11]
    assert all(i is not None and i < before[-1] for i, _, _ in got[1:])  # numbered lower
    assert await sub.next(0.2) is None
    await emit(app, ws, 1, start=12)  # and it goes on
    ((_, _, data),) = await collect(sub, 1)
    assert orjson.loads(data)["chat"] == 12


async def test_ending_the_streams_hands_over_what_is_pending_then_ends_each_at_once(
    app: FastAPI, factory: Factory, feed: Feed
) -> None:
    ws = (await factory.tenant()).workspace.id
    waiting, behind = await feed.subscribe(ws, None), await feed.subscribe(ws, None)
    await emit(app, ws, 2)
    got = await collect(waiting, 2)
    await emit(app, ws, 1, start=10)
    await collect(waiting, 1)  # ``behind`` has not read its three yet
    feed.end_streams()
    # A stream behind still gets its pending events first, then none: not a heartbeat wait.
    assert [orjson.loads(d)["chat"] for _, _, d in frames(await behind.next(60))] == [0, 1, 10]
    assert waiting.closed and behind.closed
    assert await asyncio.wait_for(waiting.next(60), 1) is None
    assert await asyncio.wait_for(behind.next(60), 1) is None
    late = await feed.subscribe(ws, got[0][0])  # opened while stopping: catch-up, then ends
    assert [orjson.loads(d)["chat"] for _, _, d in frames(await late.next(60))] == [1, 10]
    assert await asyncio.wait_for(late.next(60), 1) is None
