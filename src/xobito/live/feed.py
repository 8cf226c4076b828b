"""The process's reader of live events: every workspace's, in id order, without a gap.

Ids come from one sequence and are taken just before each transaction commits, so two
writers may commit them out of order: when the feed sees id 12 but not 11, it hands out
everything before 11 and waits for it, up to ``gap_wait`` seconds (a transaction that
rolled back never fills its id). An id given up on is still watched for ``late_watch``
seconds and handed out late if it does commit. Events are rendered only for workspaces with
open streams here (their ``Hub``). The feed reads when woken (``live.bus``), at most every
``min_read_interval`` (a burst of commits is read together), and every ``poll_seconds``
regardless.

Ids can go back: a database restored from a backup, or a reset id sequence (SQLite's
``sqlite_sequence``, PostgreSQL's ``setval``; the test suite does it between tests), numbers
new events below what a running feed has read. The
feed notices when it finds nothing after its cursor but a newest id below it, starts again
from the oldest id kept, and tells every open stream to ``resync`` (``Hub.rewind``); without
this every new event would stay unseen until the ids passed the old cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.live.bus import BUS, LiveBus
from xobito.live.hub import Frame, Hub, Renderer, Subscription
from xobito.live.repository import LiveEventRepository
from xobito.models import LiveEvent

log = structlog.get_logger("xobito.live")
READ_LIMIT = 1000
GAP_RECHECK = 0.05


@dataclass(slots=True)
class Skipped:
    low: int
    high: int
    until: float  # monotonic time after which it is no longer watched
    seen: set[int]


class Feed:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        renderer: Renderer,
        *,
        gap_wait: float = 2.0,
        late_watch: float = 60.0,
        poll_seconds: float = 2.0,
        min_read_interval: float = 0.02,
        linger: float = 30.0,
        keep: int = 1000,
        max_behind: int = 1000,
        bus: LiveBus = BUS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.renderer = renderer
        self.gap_wait = gap_wait
        self.late_watch = late_watch
        self.poll_seconds = poll_seconds
        self.min_read_interval = min_read_interval
        self.linger = linger
        self.hub_options = {"keep": keep, "max_behind": max_behind}
        self.bus = bus
        self.cursor = 0  # every id up to here was handed out or given up on
        self.hubs: dict[int, Hub] = {}
        self.ending = False  # end_streams was called
        self._gap: tuple[int, float] | None = None  # the first missing id, since when
        self._skipped: list[Skipped] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        self._unlisten: Callable[[], None] | None = None
        self._closers: dict[int, asyncio.TimerHandle] = {}
        self.reads = 0

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start reading from the newest committed event (idempotent, concurrency-safe)."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            try:
                async with self.sessionmaker() as session:
                    self.cursor = await LiveEventRepository(session).newest_id()
                self._unlisten = self.bus.listen_any(self._changed.set)
                self._task = asyncio.create_task(self._run(), name="xobito-live-feed")
                self._started.set_result(None)
            except BaseException as exc:
                self._started.set_exception(exc)
                self._started.exception()
                self._started = None
                raise
        await asyncio.shield(self._started)

    async def close(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for closer in self._closers.values():
            closer.cancel()
        self._closers.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._started = None
        self.hubs.clear()

    # ---- streams ---------------------------------------------------------------------------

    def end_streams(self) -> None:
        """The process is stopping: every open stream ends once it has sent what is
        pending, and streams opened from now on end at once."""
        self.ending = True
        for hub in self.hubs.values():
            for subscription in hub.subscribers:
                subscription.close()

    async def subscribe(self, workspace_id: int, cursor: int | None) -> Subscription:
        await self.start()
        hub = self.hubs.get(workspace_id)
        if hub is None:
            hub = self.hubs[workspace_id] = Hub(
                workspace_id, self.sessionmaker, self.renderer, self.cursor, **self.hub_options
            )
        closer = self._closers.pop(workspace_id, None)
        if closer is not None:
            closer.cancel()
        subscription = Subscription(hub, cursor)
        hub.subscribers.add(subscription)
        if self.ending:
            subscription.close()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """The stream closed; its hub goes ``linger`` seconds after its last stream (a
        reconnecting page finds its frames)."""
        hub = subscription.hub
        hub.subscribers.discard(subscription)
        if not hub.subscribers and hub.workspace_id not in self._closers:
            self._closers[hub.workspace_id] = asyncio.get_running_loop().call_later(
                self.linger, self._drop_idle, hub
            )

    def _drop_idle(self, hub: Hub) -> None:
        self._closers.pop(hub.workspace_id, None)
        if not hub.subscribers and self.hubs.get(hub.workspace_id) is hub:
            del self.hubs[hub.workspace_id]

    # ---- reading ---------------------------------------------------------------------------

    async def _run(self) -> None:
        last_read = 0.0
        wait = self.poll_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wait)
            pause = last_read + self.min_read_interval - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self._changed.clear()
            last_read = time.monotonic()
            try:
                waiting = await self.read()
            except Exception:  # the database went away: keep going, read again later
                log.exception("live_feed_read_failed")
                waiting = False
            wait = GAP_RECHECK if waiting else self.poll_seconds

    async def read(self) -> bool:
        """Hand out every event after the cursor up to the first gap still waited for;
        returns whether one is (the caller reads again soon)."""
        while True:
            now = time.monotonic()
            self._skipped = [s for s in self._skipped if s.until > now]
            ranges = [(s.low, s.high) for s in self._skipped]
            async with self.sessionmaker() as session:
                repo = LiveEventRepository(session)
                rows = await repo.after(self.cursor, READ_LIMIT, ranges)
                if not rows and self.cursor > 0 and await self._rewound(repo):
                    continue
                late = [r for r in rows if r.id <= self.cursor]
                fresh = [r for r in rows if r.id > self.cursor]
                ready, waiting = self._contiguous(fresh, now)
                if ready:
                    self.reads += 1
                    await self._hand_out(session, ready)
                if late:
                    await self._hand_out_late(session, late)
            if waiting or len(fresh) < READ_LIMIT:
                return waiting

    async def _rewound(self, repo: LiveEventRepository) -> bool:
        """Ids went back (see the module's notes): restart from the oldest kept event."""
        newest = await repo.newest_id()
        if newest == 0 or newest >= self.cursor:
            return False  # nothing newer yet (an empty table may still get higher ids)
        oldest = await repo.oldest_id()
        start = (oldest or 1) - 1
        log.warning("live_event_ids_went_back", cursor=self.cursor, newest=newest)
        self.cursor = start
        self._gap = None
        self._skipped = []
        for hub in self.hubs.values():
            hub.rewind(start)
        return True

    def _contiguous(self, rows: list[LiveEvent], now: float) -> tuple[list[LiveEvent], bool]:
        """The rows up to the first gap still waited for, and whether there is one. Gaps
        waited for too long are given up on (and watched for late commits)."""
        expected = self.cursor + 1
        ready: list[LiveEvent] = []
        for row in rows:
            if row.id > expected:
                if self._gap is None or self._gap[0] != expected:
                    self._gap = (expected, now)
                if now - self._gap[1] < self.gap_wait:
                    return ready, True
                log.warning("live_event_gap_skipped", low=expected, high=row.id - 1)
                self._skipped.append(Skipped(expected, row.id - 1, now + self.late_watch, set()))
                self._gap = None
            ready.append(row)
            expected = row.id + 1
        return ready, False

    async def _hand_out(self, session: AsyncSession, rows: list[LiveEvent]) -> None:
        synced = rows[-1].id
        by_workspace: dict[int, list[LiveEvent]] = {}
        for row in rows:
            if row.workspace_id in self.hubs:
                by_workspace.setdefault(row.workspace_id, []).append(row)
        rendered = {
            ws: await self.hubs[ws].render(session, found) for ws, found in by_workspace.items()
        }
        self.cursor = synced
        for workspace_id, hub in self.hubs.items():
            hub.advance(rendered.get(workspace_id, []), synced)

    async def _hand_out_late(self, session: AsyncSession, rows: list[LiveEvent]) -> None:
        for row in rows:
            for skipped in self._skipped:
                if skipped.low <= row.id <= skipped.high:
                    if row.id in skipped.seen:
                        break
                    skipped.seen.add(row.id)
                    log.info("live_event_late", id=row.id)
                    hub = self.hubs.get(row.workspace_id)
                    if hub is not None:
                        (frame,) = await hub.render(session, [row])
                        name_and_data = frame.data.split(b"\n", 1)[1]  # without its id line
                        hub.late(Frame(row.id, frame.data), name_and_data)
                    break
