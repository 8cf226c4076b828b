"""Per-token rate limiting and monthly quotas on the ``limits`` package.

In memory by default; in Redis when ``XOBITO_REDIS_URL`` is set, so that every API process
shares one counter per token and together they admit exactly the limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime

from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from redis.asyncio import BlockingConnectionPool

from xobito.kit.coalesce import CoalescingCounter
from xobito.kit.time import seconds_until_next_month


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class RateLimiter:
    def __init__(
        self, redis_url: str | None = None, prefix: str = "xobito", max_connections: int = 64
    ) -> None:
        """``max_connections``: Redis connections of this process; a request finding them
        all busy waits for one (a burst of hundreds of requests would otherwise open one
        each, past any limit, and fail)."""
        self.storage: Storage
        if redis_url:
            uri = redis_url.replace("redis://", "async+redis://", 1)
            pool = BlockingConnectionPool.from_url(
                redis_url, max_connections=max_connections, timeout=30
            )
            self.storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=prefix,
                connection_pool=pool,  # type: ignore[arg-type]  # limits types options narrowly
            )
        else:
            self.storage = MemoryStorage()
        # Redis: concurrent hits of one counter share a round trip (kit/coalesce.py).
        self._incr = CoalescingCounter(self.storage.incr).incr if redis_url else self._memory_incr

    async def _memory_incr(self, key: str, expiry: int) -> int:
        return await self.storage.incr(key, expiry)

    async def hit(self, key: str, limit: int, decay_minutes: int) -> Decision:
        """Count one request in a fixed window that starts at its first hit (Laravel's throttle).

        At most one storage round trip per admitted request (concurrent ones share theirs):
        the counter's atomic increment (INCRBY and EXPIRE in one Lua call on Redis) tells how
        many remain; the window's expiry is read
        only to answer a refusal. The counter is keyed by window, not by the allowed amount,
        so changing ``rate_limit_max`` keeps the requests already counted in this window.
        """
        window_key = f"rate/{key}/{decay_minutes}m"
        used = await self._incr(window_key, decay_minutes * 60)
        if used <= limit:
            return Decision(True, limit, limit - used, 0)
        reset_at = await self.storage.get_expiry(window_key)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        return Decision(False, limit, 0, retry_after)

    async def hit_quota(self, key: str, quota: int, now: datetime) -> Decision:
        """Count one request against a calendar-month quota (UTC)."""
        month_key = f"quota/{key}/{now:%Y-%m}"
        ttl = seconds_until_next_month(now)
        # One extra day of expiry so a clock skew between processes cannot reset it early.
        used = await self._incr(month_key, ttl + 86_400)
        return Decision(used <= quota, quota, max(0, quota - used), ttl)

    async def reset(self) -> None:
        await self.storage.reset()

    async def check(self) -> bool:
        return bool(await self.storage.check())
