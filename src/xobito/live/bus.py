"""Waking the streams of every process after a commit: in process, and through Redis
pub/sub when ``XOBITO_REDIS_URL`` is set.

A wake-up carries no event, only "workspace N has new events": every stream reads them from
the database (``live.hub``), so a lost or duplicated wake-up costs a read, never an event.
Each process publishes on ``<prefix>:live`` one message per burst of commits (the workspace
ids) and listens on the same channel; its own messages are recognised and skipped (it woke
its streams directly). A Redis outage is logged and retried; meanwhile the hubs' periodic
read keeps streams current.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Callable

import structlog

log = structlog.get_logger("xobito.live")

Listener = Callable[[], None]
RECONNECT_SECONDS = 1.0


class LiveBus:
    def __init__(self) -> None:
        self._listeners: dict[int, set[Listener]] = {}
        self._any: set[Listener] = set()
        self.redis_url: str | None = None
        self.channel = "xobito:live"
        self.origin = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._outbox: set[int] = set()
        self._flush: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.received = 0  # wake-ups from other processes (tests, metrics)

    def configure(self, redis_url: str | None, prefix: str = "xobito") -> None:
        self.redis_url = redis_url
        self.channel = f"{prefix}:live"

    # ---- waking ----------------------------------------------------------------------------

    def listen(self, workspace_id: int, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` (sync, cheap) whenever the workspace may have new events;
        returns the function that stops it."""
        self._listeners.setdefault(workspace_id, set()).add(listener)

        def stop() -> None:
            found = self._listeners.get(workspace_id)
            if found is not None:
                found.discard(listener)
                if not found:
                    del self._listeners[workspace_id]

        return stop

    def listen_any(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` whenever any workspace may have new events."""
        self._any.add(listener)
        return lambda: self._any.discard(listener)

    def wake(self, workspace_ids: set[int] | frozenset[int]) -> None:
        """After a commit: wake this process's streams now, and the others through Redis."""
        self._wake_local(workspace_ids)
        if self._flush is not None and self._loop is not None:
            self._outbox.update(workspace_ids)
            self._flush.set()

    def _wake_local(self, workspace_ids: set[int] | frozenset[int]) -> None:
        if workspace_ids:
            for listener in list(self._any):
                listener()
        for workspace_id in workspace_ids:
            for listener in list(self._listeners.get(workspace_id, ())):
                listener()

    def wake_all(self) -> None:
        """Every local reader re-reads (after a Redis reconnect: wake-ups may be lost)."""
        for listener in list(self._any):
            listener()
        self._wake_local(frozenset(self._listeners))

    # ---- Redis -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start publishing and listening (no-op without Redis, or if started)."""
        if self.redis_url is None or self._tasks:
            return
        self._loop = asyncio.get_running_loop()
        self._flush = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._publisher(), name="xobito-live-publish"),
            asyncio.create_task(self._subscriber(), name="xobito-live-subscribe"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._flush = None
        self._loop = None
        self._outbox.clear()

    def _client(self) -> object:
        import redis.asyncio as redis

        assert self.redis_url is not None
        return redis.from_url(self.redis_url, health_check_interval=30)

    async def _publisher(self) -> None:
        import redis.asyncio as redis

        assert self._flush is not None
        client: redis.Redis = self._client()  # type: ignore[assignment]
        try:
            while True:
                await self._flush.wait()
                self._flush.clear()
                ids, self._outbox = self._outbox, set()
                if not ids:
                    continue
                message = self.origin + " " + " ".join(str(i) for i in sorted(ids))
                try:
                    await client.publish(self.channel, message)
                except (redis.RedisError, OSError) as exc:
                    log.warning("live_publish_failed", error=str(exc))
                    await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _subscriber(self) -> None:
        import redis.asyncio as redis

        while True:
            client: redis.Redis = self._client()  # type: ignore[assignment]
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.wake_all()  # anything published while we were not listening
                async for message in pubsub.listen():
                    self._received(message.get("data"))
            except (redis.RedisError, OSError) as exc:
                log.warning("live_subscribe_failed", error=str(exc))
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _received(self, data: object) -> None:
        if isinstance(data, bytes):
            data = data.decode(errors="replace")
        if not isinstance(data, str):
            return
        origin, _, rest = data.partition(" ")
        if origin == self.origin:
            return
        self.received += 1
        ids = {int(part) for part in rest.split() if part.isdigit()}
        self._wake_local(ids)


# One per process: producers' commit hooks have no app to reach it through.
BUS = LiveBus()
