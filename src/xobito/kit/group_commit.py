"""Group commit: calls that arrive while a write is in flight wait and go in the next one.

Used where each request needs one round trip to a store and hundreds arrive together (the
webhook inbox's INSERT, the rate limiter's Redis INCR): one write serves a whole group, yet
every caller returns only once its own item is written, with its own result. A lone call
goes straight through: nothing waits for company.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        group_size: Callable[[list[T]], int] | None = None,
        name: str = "group-commit",
    ) -> None:
        """``write(items)`` stores a group and returns one result per item, in order;
        ``group_size(waiting)`` says how many of the oldest waiting items go in the next
        group (default: all). A failed write fails every call of its group."""
        self._write = write
        self._group_size = group_size
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name=self._name)
        return await done

    async def _drain(self) -> None:
        try:
            while self._waiting:
                count = len(self._waiting)
                if self._group_size is not None:
                    count = self._group_size([item for item, _ in self._waiting])
                group, self._waiting = self._waiting[:count], self._waiting[count:]
                try:
                    results = await self._write([item for item, _ in group])
                except BaseException as exc:
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc if isinstance(exc, Exception) else _stopped())
                    if not isinstance(exc, Exception):
                        raise  # cancelled (shutdown): the finally below fails the rest
                    continue
                for (_, done), result in zip(group, results, strict=True):
                    if not done.done():  # a caller cancelled while waiting was written anyway
                        done.set_result(result)
        finally:
            self._writer = None
            waiting, self._waiting = self._waiting, []
            for _, done in waiting:  # only when the writer was cancelled mid-write
                if not done.done():
                    done.set_exception(_stopped())


def _stopped() -> Exception:
    return ConnectionError("the write was interrupted (shutting down)")
