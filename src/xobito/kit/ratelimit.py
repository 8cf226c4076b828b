"""Per-token rate limiting and monthly quotas on the ``limits`` package.

In memory by default; in Redis when ``XOBITO_REDIS_URL`` is set, so that every API process
shares one counter per token and together they admit exactly the limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from xobito.kit.time import seconds_until_next_month


class _Window(RateLimitItemPerMinute):
    """A per-minute limit whose counter is keyed by window, not by the allowed amount.

    Changing a token's or workspace's ``rate_limit_max`` keeps the requests already counted
    in the current window (as Laravel's throttle does) instead of starting a fresh count.
    """

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        parts = [k.decode() if isinstance(k, bytes) else str(k) for k in identifiers]
        return "/".join([self.namespace, *parts, str(self.multiples), "window"])


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class RateLimiter:
    def __init__(self, redis_url: str | None = None, prefix: str = "xobito") -> None:
        self.storage: Storage
        if redis_url:
            uri = redis_url.replace("redis://", "async+redis://", 1)
            self.storage = RedisStorage(uri, implementation="redispy", key_prefix=prefix)
        else:
            self.storage = MemoryStorage()
        self.strategy = FixedWindowRateLimiter(self.storage)

    async def hit(self, key: str, limit: int, decay_minutes: int) -> Decision:
        """Count one request; the window starts at the first hit, as Laravel's throttle does."""
        item = _Window(limit, decay_minutes)
        allowed = await self.strategy.hit(item, key)
        stats = await self.strategy.get_window_stats(item, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(allowed, limit, max(0, stats.remaining), retry_after)

    async def hit_quota(self, key: str, quota: int, now: datetime) -> Decision:
        """Count one request against a calendar-month quota (UTC)."""
        month_key = f"quota/{key}/{now:%Y-%m}"
        ttl = seconds_until_next_month(now)
        # One extra day of expiry so a clock skew between processes cannot reset it early.
        used = await self.storage.incr(month_key, ttl + 86_400)
        return Decision(used <= quota, quota, max(0, quota - used), ttl)

    async def reset(self) -> None:
        await self.storage.reset()

    async def check(self) -> bool:
        return bool(await self.storage.check())
