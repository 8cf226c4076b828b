"""Group concurrent increments of one counter into one storage call (``INCRBY n``).

Every API request counts against its token's rate limit in Redis. At hundreds of concurrent
requests one round trip each costs more CPU than the rest of the request's checks together;
here the increments of a key are group-committed (``kit.group_commit``). Each caller still
gets its own count, exactly as if the increments had been made one by one
(``total - n + 1 .. total``), so limits stay exact across processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from xobito.kit.group_commit import GroupCommit

Increment = Callable[[str, int, int], Awaitable[int]]


class CoalescingCounter:
    def __init__(self, increment: Increment) -> None:
        """``increment(key, expiry_seconds, amount)`` returns the counter's new value."""
        self._increment = increment
        self._keys: dict[str, GroupCommit[int, int]] = {}

    async def incr(self, key: str, expiry: int) -> int:
        group = self._keys.get(key)
        if group is None:

            async def write(expiries: list[int]) -> range:
                total = await self._increment(key, expiries[0], len(expiries))
                return range(total - len(expiries) + 1, total + 1)

            group = self._keys[key] = GroupCommit(write, name="xobito-counter")
        return await group.submit(expiry)
