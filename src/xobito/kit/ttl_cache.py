"""A tiny per-process cache whose entries expire after a fixed number of seconds."""

from __future__ import annotations

import time
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, max_items: int = 10_000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._items: dict[K, tuple[float, V]] = {}

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
