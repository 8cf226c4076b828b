"""One workspace's events in one process, and the open streams that read them.

A ``Hub`` holds the rendered frames of its workspace's events read since it started (the
last ``keep`` of them); ``synced`` is the feed's position: every event of the workspace up
to it is in the frames, or older than ``base``. A ``Subscription`` (one open stream) takes
every frame after its cursor in one chunk; a cursor older than ``base`` is served from the
database through the same renderer (catch-up after a reconnect), and one more than
``max_behind`` events behind, or behind purged events, gets a single ``resync`` frame.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.live.frames import resync_frame, sse_frame
from xobito.live.repository import LiveEventRepository
from xobito.models import LiveEvent

# (event name, data) for each event, in order; data may span lines. The payload must not
# depend on who watches: it is rendered once per process for every stream.
Renderer = Callable[[AsyncSession, int, Sequence[LiveEvent]], Awaitable[list[tuple[str, str]]]]


@dataclass(frozen=True, slots=True)
class Frame:
    id: int
    data: bytes


class Hub:
    def __init__(
        self,
        workspace_id: int,
        sessionmaker: async_sessionmaker[AsyncSession],
        renderer: Renderer,
        synced: int,
        *,
        keep: int = 1000,
        max_behind: int = 1000,
    ) -> None:
        self.workspace_id = workspace_id
        self.sessionmaker = sessionmaker
        self.renderer = renderer
        self.keep = keep
        self.max_behind = max_behind
        self.base = synced  # older events are not in ``frames``
        self.synced = synced
        self.frames: list[Frame] = []  # ascending ids
        self.subscribers: set[Subscription] = set()
        self._chunks: dict[int, bytes] = {}  # cursor -> frames after it, until the next change

    async def render(self, session: AsyncSession, rows: Sequence[LiveEvent]) -> list[Frame]:
        rendered = await self.renderer(session, self.workspace_id, rows)
        return [
            Frame(row.id, sse_frame(row.id, name, data))
            for row, (name, data) in zip(rows, rendered, strict=True)
        ]

    def advance(self, frames: list[Frame], synced: int) -> None:
        """The feed read up to ``synced``; ``frames`` are this workspace's new events."""
        self.frames.extend(frames)
        if len(self.frames) > 2 * self.keep:
            dropped = len(self.frames) - self.keep
            self.base = self.frames[dropped - 1].id
            del self.frames[:dropped]
        self.synced = synced
        self._chunks = {}
        if frames:
            for subscriber in list(self.subscribers):
                subscriber.ready.set()

    def rewind(self, synced: int) -> None:
        """Ids went back to ``synced`` (``Feed._rewound``): the kept frames are of another
        numbering, so they go, and every stream is told to resync and goes on from there."""
        self.frames = []
        self.base = self.synced = synced
        self._chunks = {}
        for subscriber in list(self.subscribers):
            subscriber.cursor = synced
            subscriber.late.append(resync_frame(synced))
            subscriber.ready.set()

    def late(self, frame: Frame, data: bytes) -> None:
        """An event that committed after the feed gave up waiting for it: kept in order for
        later catch-ups, and sent now (without an id) to every stream already past it."""
        bisect.insort(self.frames, frame, key=lambda f: f.id)
        self._chunks = {}
        for subscriber in list(self.subscribers):
            if subscriber.cursor >= frame.id:
                subscriber.late.append(data)
                subscriber.ready.set()

    def kept_after(self, cursor: int) -> bytes | None:
        """The frames after ``cursor`` in one chunk (shared by every stream at that cursor),
        or None if the cursor is older than the kept frames."""
        if cursor < self.base:
            return None
        chunk = self._chunks.get(cursor)
        if chunk is None:
            start = bisect.bisect_right(self.frames, cursor, key=lambda f: f.id)
            chunk = self._chunks[cursor] = b"".join(f.data for f in self.frames[start:])
        return chunk

    async def from_database(self, cursor: int) -> tuple[bytes, int]:
        """Catch-up of a cursor older than the kept frames: (frames, new cursor)."""
        up_to = self.synced
        async with self.sessionmaker() as session:
            repo = LiveEventRepository(session)
            oldest = await repo.oldest_id()
            if oldest is not None and cursor + 1 < oldest:  # events in between are purged
                return resync_frame(up_to), up_to
            rows = await repo.of_workspace(self.workspace_id, cursor, up_to, self.max_behind + 1)
            if len(rows) > self.max_behind:
                return resync_frame(up_to), up_to
            frames = await self.render(session, rows)
        return b"".join(f.data for f in frames), up_to


class Subscription:
    """One open stream's place in its workspace's events: it has sent every event up to
    ``cursor``."""

    def __init__(self, hub: Hub, cursor: int | None) -> None:
        self.hub = hub
        # No cursor, or one ahead of what this process has read (another process's newer
        # id, a forged one): from the feed's position on.
        self.cursor = hub.synced if cursor is None or cursor > hub.synced else cursor
        self.ready = asyncio.Event()
        self.late: list[bytes] = []
        self.closed = False

    def close(self) -> None:
        """The process is stopping: ``next`` hands over what is pending, then returns None
        at once, and the stream ends (its page reconnects with its last event id)."""
        self.closed = True
        self.ready.set()

    async def next(self, wait: float) -> bytes | None:
        """Every frame after the cursor, waiting up to ``wait`` seconds for one (None: none)."""
        deadline = time.monotonic() + wait
        while True:
            self.ready.clear()
            late, self.late = b"".join(self.late), []
            chunk = b""
            if self.cursor < self.hub.synced:
                kept = self.hub.kept_after(self.cursor)
                if kept is None:
                    chunk, self.cursor = await self.hub.from_database(self.cursor)
                else:
                    chunk, self.cursor = kept, self.hub.synced
            if late or chunk:
                return late + chunk
            if self.closed:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), left)
