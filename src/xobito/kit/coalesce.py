"""Group concurrent increments of one counter into one storage call (``INCRBY n``).

Every API request counts against its token's rate limit in Redis. At hundreds of concurrent
requests one round trip each costs more CPU than the rest of the request's checks together;
here, while a call for a key is in flight, the increments that arrive meanwhile wait and go
together in the next call. Each caller still gets its own count, exactly as if the
increments had been made one by one (``total - n + 1 .. total``), so limits stay exact
across processes. A lone request goes straight through: nothing waits for company.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Increment = Callable[[str, int, int], Awaitable[int]]


def _gone() -> Exception:
    return ConnectionError("the counter's storage call was interrupted")


class CoalescingCounter:
    def __init__(self, increment: Increment) -> None:
        """``increment(key, expiry_seconds, amount)`` returns the counter's new value."""
        self._increment = increment
        self._waiting: dict[str, list[asyncio.Future[int]]] = {}
        self._flushing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # strong references while they run

    async def incr(self, key: str, expiry: int) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if key not in self._flushing:
            self._flushing.add(key)
            task = asyncio.ensure_future(self._flush(key, expiry))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self, key: str, expiry: int) -> None:
        try:
            while batch := self._waiting.pop(key, None):
                try:
                    total = await self._increment(key, expiry, len(batch))
                except BaseException as exc:
                    for future in batch:
                        if not future.done():
                            future.set_exception(exc if isinstance(exc, Exception) else _gone())
                    if not isinstance(exc, Exception):
                        raise  # cancelled (shutdown): the finally below fails the rest
                    continue
                first = total - len(batch) + 1
                for i, future in enumerate(batch):
                    if not future.done():  # a request cancelled while waiting still counts
                        future.set_result(first + i)
        finally:
            self._flushing.discard(key)
            for future in self._waiting.pop(key, []):  # only if cancelled mid-call
                if not future.done():
                    future.set_exception(_gone())
