"""Sign-in throttling per account and per client IP, on the API's rate-limit store (memory,
or Redis shared by every process).

Failed attempts are counted in a fixed window (``login_window_minutes``); past
``login_max_attempts`` for an account, or ``login_max_attempts_per_ip`` for an IP, sign-in
answers 429 with the wait, without checking the password. A successful sign-in clears the
account's count.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from xobito.config import Settings
from xobito.kit.ratelimit import RateLimiter


@dataclass(frozen=True, slots=True)
class Counter:
    key: str
    limit: int


class SignInThrottle:
    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self.storage = limiter.storage
        self.window = settings.login_window_minutes * 60
        self.settings = settings

    def _counters(self, email: str, ip: str | None) -> list[Counter]:
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        counters = [Counter(f"signin/account/{account}", self.settings.login_max_attempts)]
        if ip:
            counters.append(Counter(f"signin/ip/{ip}", self.settings.login_max_attempts_per_ip))
        return counters

    async def wait_seconds(self, email: str, ip: str | None) -> int:
        """0 when an attempt may be made now, else the seconds until one may."""
        wait = 0
        for counter in self._counters(email, ip):
            if await self.storage.get(counter.key) >= counter.limit:
                expiry = await self.storage.get_expiry(counter.key)
                wait = max(wait, max(1, math.ceil(expiry - time.time())))
        return wait

    async def failed(self, email: str, ip: str | None) -> int:
        """Count a failure; returns how many attempts the account has left."""
        left = self.settings.login_max_attempts
        for counter in self._counters(email, ip):
            used = await self.storage.incr(counter.key, self.window)
            if counter.key.startswith("signin/account/"):
                left = max(0, counter.limit - used)
        return left

    async def succeeded(self, email: str) -> None:
        await self.storage.clear(self._counters(email, None)[0].key)
