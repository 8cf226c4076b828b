"""``/app/<subdomain>/events``: the live pages' Server-Sent Events stream.

Authorised like every page (signed in, a member of the workspace), on connect and again at
every heartbeat, so signing out or being removed ends the stream. No database session is
held while the stream is open: each check and each catch-up read opens a short one.

Ids are ``live_events`` row ids: the browser's ``Last-Event-ID`` (its own reconnect), else
``after`` (the page's highest id at render time, or what ``app.js`` saw last) resumes the
stream from the database, so nothing between render and connect, or during a drop, is lost;
too far behind gets one ``resync``. Events carry no personal data (``render_events``): a
page refetches its own regions through its normal handlers, which apply the viewer's role
and filters.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import threading
from collections.abc import AsyncIterator, Sequence
from types import FrameType
from typing import Any

import orjson
import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from xobito.account.repository import MembershipRepository
from xobito.account.sessions import SessionService
from xobito.kit.errors import NotFound
from xobito.live.feed import Feed
from xobito.live.frames import comment_frame, retry_frame
from xobito.live.hub import Subscription
from xobito.live.repository import LiveEventRepository
from xobito.models import LiveEvent
from xobito.web.csrf import SESSION_COOKIE
from xobito.web.deps import WORKSPACE_NOT_FOUND, SignInRequired

log = structlog.get_logger("xobito.live")
router = APIRouter()
RETRY_MS = 2000
MAX_ID = 2**63 - 1


async def render_events(
    session: AsyncSession, workspace_id: int, rows: Sequence[LiveEvent]
) -> list[tuple[str, str]]:
    """Each event as its kind and small JSON (ids and counters): the same for every viewer."""
    out: list[tuple[str, str]] = []
    for row in rows:
        data: dict[str, object] = {"chat": row.chat_id, "message": row.message_id}
        if row.data:
            data.update(row.data)
        out.append((row.kind, orjson.dumps(data).decode()))
    return out


def feed_of(app: FastAPI) -> Feed:
    """The process's one feed (made on first use, on the app's database)."""
    feed: Feed | None = getattr(app.state, "live_feed", None)
    if feed is None:
        settings = app.state.settings
        feed = Feed(app.state.sessionmaker, render_events, poll_seconds=settings.live_poll_seconds)
        app.state.live_feed = feed
    return feed


def end_streams_on_exit(app: FastAPI) -> None:
    """Under uvicorn (``xobito serve``), from the app's startup: on SIGTERM or SIGINT the
    open streams end at once, then uvicorn's own handler runs. Otherwise its graceful
    shutdown waits the whole ``XOBITO_SERVE_SHUTDOWN_SECONDS`` for them and cancels them
    (logged as an error). Each page reconnects, with its last event id, to a server that
    is up. Nothing is installed when another handler than uvicorn's is in place (tests,
    an embedding program); uvicorn puts back the handlers it replaced when it exits."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()

    def end() -> None:
        # The feed is made if no stream has opened yet: one opening in the moment before
        # the server stops listening must end too.
        feed_of(app).end_streams()

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if not callable(previous) or not isinstance(
            getattr(previous, "__self__", None), uvicorn.Server
        ):
            continue

        def on_exit(sig: int, frame: FrameType | None, previous: Any = previous) -> None:
            try:
                loop.call_soon_threadsafe(end)
            finally:
                previous(sig, frame)  # uvicorn's own: the server stops whatever happened

        signal.signal(signum, on_exit)


async def close_live(app: FastAPI) -> None:
    feed: Feed | None = getattr(app.state, "live_feed", None)
    if feed is not None:
        await feed.close()
        app.state.live_feed = None


async def member_workspace(app: FastAPI, cookie: str | None, subdomain: str) -> int:
    """The workspace id the session's user may watch; raises like a page would."""
    async with app.state.sessionmaker() as session:
        signed = await SessionService(session, app.state.settings).resolve(cookie)
        if signed is None:
            raise SignInRequired()
        workspaces = await MembershipRepository(session).workspaces_of(signed.user.id)
        await session.commit()  # the session's last-seen touch
    found = next((ws.id for ws, _ in workspaces if ws.subdomain == subdomain), None)
    if found is None:
        raise NotFound(WORKSPACE_NOT_FOUND)
    return found


def resume_from(request: Request) -> int | None:
    """``Last-Event-ID`` (the browser's reconnect), else ``after``; junk is ignored."""
    for raw in (request.headers.get("last-event-id"), request.query_params.get("after")):
        if raw is not None and raw.strip().isdigit() and int(raw) <= MAX_ID:
            return int(raw)
    return None


@router.get("/{subdomain}/events", name="web.events", include_in_schema=False)
async def events(request: Request, subdomain: str) -> Response:
    app: FastAPI = request.app
    cookie = request.cookies.get(SESSION_COOKIE)
    workspace_id = await member_workspace(app, cookie, subdomain)
    feed = feed_of(app)
    subscription = await feed.subscribe(workspace_id, resume_from(request))
    heartbeat = app.state.settings.live_heartbeat_seconds
    return StreamingResponse(
        stream(request, feed, subscription, cookie, subdomain, heartbeat),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
            "Vary": "Cookie",
        },
    )


def heartbeat_wait(heartbeat: float) -> float:
    """Between half the heartbeat and all of it, at random: streams opened together, or
    all woken by one event, would otherwise check their sessions in the same instant (500
    streams: a burst of 500 transactions every heartbeat, which took the API's p99 from
    150 ms to 600 ms in ``bench.inbox_live``)."""
    return heartbeat * random.uniform(0.5, 1.0)


async def stream(
    request: Request,
    feed: Feed,
    subscription: Subscription,
    cookie: str | None,
    subdomain: str,
    heartbeat: float,
) -> AsyncIterator[bytes]:
    try:
        # The first bytes at once: the browser (and any proxy) sees the stream open.
        yield retry_frame(RETRY_MS) + comment_frame("open")
        while True:
            chunk = await subscription.next(heartbeat_wait(heartbeat))
            if chunk is not None:
                yield chunk
                continue
            if subscription.closed:
                return  # the server is stopping (end_streams_on_exit)
            if await request.is_disconnected():
                return
            try:
                await member_workspace(request.app, cookie, subdomain)
            except (SignInRequired, NotFound):
                return  # signed out or removed: the stream ends (the page's reconnect fails)
            yield comment_frame("heartbeat")
    finally:
        with contextlib.suppress(Exception):
            feed.unsubscribe(subscription)


async def newest_event_id(session: AsyncSession) -> int:
    """What a live page renders as its ``after``: nothing older is news to it."""
    return await LiveEventRepository(session).newest_id()
