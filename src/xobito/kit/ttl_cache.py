"""A tiny per-process cache whose entries expire after a fixed number of seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, max_items: int = 10_000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._items: dict[K, tuple[float, V]] = {}
        # Loads in flight (``load``): the first miss of a key loads it, the others wait.
        self._loading: dict[K, asyncio.Future[Any]] = {}

    def get(self, key: K) -> V | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return hit[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        if len(self._items) >= self.max_items:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        self._items.clear()

    async def load(self, key: K, loader: Callable[[], Awaitable[V]], *, wait: bool = True) -> V:
        """The cached value, else ``loader()``'s, cached. Concurrent misses of one key share
        a single load: when an entry expires under load, hundreds of requests would otherwise
        each run the same query at once. A failed load fails its waiters too.

        ``wait=False``: load without waiting for another caller's load. A caller whose
        session holds a database connection passes it: the load it would wait for may itself
        be waiting for a connection, and with the pool taken that wait never ends.
        """
        while True:
            hit = self._items.get(key)
            if hit is not None and hit[0] >= time.monotonic():
                return hit[1]
            pending = self._loading.get(key)
            if pending is None or not wait:
                break
            shared = await asyncio.shield(pending)
            if shared is not _RETRY:  # _RETRY: the loading caller was cancelled, try again
                return shared  # type: ignore[no-any-return]
        lead = key not in self._loading
        future: asyncio.Future[Any] | None = None
        if lead:
            future = self._loading[key] = asyncio.get_running_loop().create_future()
        try:
            value = await loader()
        except Exception as exc:
            if future is not None:
                future.set_exception(exc)
                future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        except BaseException:
            if future is not None:
                future.set_result(_RETRY)
            raise
        finally:
            if lead:
                del self._loading[key]
        self.put(key, value)
        if future is not None:
            future.set_result(value)
        return value


_RETRY = object()


_SHARED: list[TTLCache[object, object]] = []


def shared_cache(ttl: float = 0.5) -> TTLCache[Any, Any]:
    """A module-level cache whose TTL follows ``configure_shared_caches`` (the process's
    ``auth_cache_seconds``: 0 in tests, so nothing is ever served stale there)."""
    cache: TTLCache[Any, Any] = TTLCache(ttl)
    _SHARED.append(cache)
    return cache


def configure_shared_caches(ttl: float) -> None:
    for cache in _SHARED:
        cache.ttl = ttl
        cache.clear()
