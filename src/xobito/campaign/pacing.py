"""Pacing of campaign sends: a token bucket per sending phone number, shared by all workers.

The bucket is kept as GCRA's "theoretical arrival time" (TAT): a send reserves the next free
slot, ``1 / rate`` seconds after the previous one, and waits until it. Nothing accumulates
while a number is idle, so a campaign never bursts above its rate. Slots are reserved at most
``HORIZON`` seconds ahead: a worker that dies wastes at most that much capacity, and a
slow-down takes effect within it.

- Several keys per reservation (the sending number, the campaign): the slot is the latest of
  theirs, and each advances by its own interval.
- Meta's ``130429`` (throughput reached) halves the number's rate, at most once a second;
  it recovers linearly to the configured rate (``RECOVERY_PER_SECOND`` of it per second).
- Sends from the inbox and the API take priority: they never wait, but take a slot of the
  number's bucket after the fact (``take``), so campaign traffic makes room for them.

In Redis (``XOBITO_REDIS_URL``) every process shares the buckets (one Lua call per send,
Redis' clock); otherwise they live in this process (SQLite runs one worker in process).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from redis.asyncio import BlockingConnectionPool, Redis

log = structlog.get_logger("xobito.campaign.pacing")

HORIZON = 1.0  # seconds of slots a send may reserve ahead
RECOVERY_PER_SECOND = 0.05  # of the configured rate, after a slow-down
MIN_FACTOR = 0.02
TTL_MS = 120_000

# KEYS: bucket hashes (tat, iv, f, t: microseconds, factor). ARGV[1]: horizon (µs),
# ARGV[2]: recovery per µs, ARGV[3..]: base interval (µs) per key.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local horizon = tonumber(ARGV[1])
local recovery = tonumber(ARGV[2])
local slot = now
local intervals = {}
for i, key in ipairs(KEYS) do
  local h = redis.call('HMGET', key, 'tat', 'f', 't')
  local tat = tonumber(h[1] or '0')
  if tat > slot then slot = tat end
  local interval = tonumber(ARGV[i + 2])
  if h[2] then
    local f = tonumber(h[2]) + (now - tonumber(h[3])) * recovery
    if f < 1 then interval = interval / f end
  end
  intervals[i] = interval
end
if slot - now > horizon then return {0, slot - now} end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tat', string.format('%.0f', slot + intervals[i]), 'iv',
    string.format('%.0f', intervals[i]))
  redis.call('PEXPIRE', key, ARGV[#ARGV])
end
return {1, slot - now}
"""
# KEYS[1]: the number's bucket. ARGV[1]: recovery per µs, ARGV[2]: min factor.
_SLOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local h = redis.call('HMGET', KEYS[1], 'f', 't')
local f = 1
if h[1] then
  if now - tonumber(h[2]) < 1000000 then return 0 end
  f = math.min(1, tonumber(h[1]) + (now - tonumber(h[2])) * tonumber(ARGV[1]))
end
f = math.max(tonumber(ARGV[2]), f / 2)
redis.call('HSET', KEYS[1], 'f', tostring(f), 't', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# KEYS[1]: the number's bucket: one slot taken without waiting, if a campaign paces it.
_TAKE = """
local h = redis.call('HMGET', KEYS[1], 'tat', 'iv')
if not h[2] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = math.max(tonumber(h[1] or '0'), now)
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', tat + tonumber(h[2])))
return 1
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str  # e.g. "n:<phone_number_id>" or "c:<campaign_id>"
    rate: float  # per second


class Pacer(Protocol):
    async def reserve(self, buckets: Sequence[Bucket]) -> tuple[bool, float]:
        """Reserve the next slot of every bucket: ``(True, wait)`` to send after ``wait``
        seconds, or ``(False, wait)`` when the slot is beyond the horizon (ask again)."""
        ...

    async def slow_down(self, key: str) -> None: ...

    async def take(self, key: str) -> None: ...

    async def factor(self, key: str) -> float:
        """The bucket's current share of its configured rate (1 unless slowed down)."""
        ...

    async def close(self) -> None: ...


async def wait_for_slot(pacer: Pacer, buckets: Sequence[Bucket]) -> None:
    """Sleep until this send's slot."""
    while True:
        reserved, wait = await pacer.reserve(buckets)
        if reserved:
            if wait > 0:
                await asyncio.sleep(wait)
            return
        await asyncio.sleep(min(0.25, max(0.001, wait - HORIZON)))


@dataclass(slots=True)
class _State:
    tat: float = 0.0
    interval: float | None = None
    factor: float | None = None
    slowed_at: float = 0.0


class MemoryPacer:
    """The buckets of this process (SQLite: the API and its worker share one process)."""

    def __init__(self) -> None:
        self._states: dict[str, _State] = {}

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _factor(self, state: _State, now: float) -> float:
        if state.factor is None:
            return 1.0
        return min(1.0, state.factor + (now - state.slowed_at) * RECOVERY_PER_SECOND)

    async def reserve(self, buckets: Sequence[Bucket]) -> tuple[bool, float]:
        now = self._now()
        states = [self._states.setdefault(b.key, _State()) for b in buckets]
        slot = max([now, *(s.tat for s in states)])
        if slot - now > HORIZON:
            return False, slot - now
        for bucket, state in zip(buckets, states, strict=True):
            interval = 1.0 / bucket.rate / self._factor(state, now)
            state.tat = slot + interval
            state.interval = interval
        return True, slot - now

    async def slow_down(self, key: str) -> None:
        now = self._now()
        state = self._states.setdefault(key, _State())
        if state.factor is not None and now - state.slowed_at < 1.0:
            return
        state.factor = max(MIN_FACTOR, self._factor(state, now) / 2)
        state.slowed_at = now
        log.info("campaign_rate_slowed", key=key, factor=round(state.factor, 3))

    async def take(self, key: str) -> None:
        state = self._states.get(key)
        if state is not None and state.interval is not None:
            state.tat = max(state.tat, self._now()) + state.interval

    async def factor(self, key: str) -> float:
        state = self._states.get(key)
        return 1.0 if state is None else self._factor(state, self._now())

    async def close(self) -> None:
        return None


class RedisPacer:
    """The buckets in Redis, shared by every process (one Lua call per reservation)."""

    def __init__(self, url: str, prefix: str, max_connections: int = 20) -> None:
        # A campaign has up to campaign_max_in_flight sends waiting for their slots at once:
        # they queue for one of a few connections (a plain pool refuses the 101st with
        # MaxConnectionsError, which failed those sends).
        pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=30)
        self.redis: Redis = Redis(connection_pool=pool)
        self.prefix = prefix
        self._reserve = self.redis.register_script(_RESERVE)
        self._slow = self.redis.register_script(_SLOW)
        self._take = self.redis.register_script(_TAKE)

    def _key(self, key: str) -> str:
        return f"{self.prefix}:pace:{key}"

    async def reserve(self, buckets: Sequence[Bucket]) -> tuple[bool, float]:
        keys = [self._key(b.key) for b in buckets]
        args = [
            int(HORIZON * 1e6),
            RECOVERY_PER_SECOND / 1e6,
            *(1e6 / b.rate for b in buckets),
            TTL_MS,
        ]
        ok, wait_us = await self._reserve(keys=keys, args=args)
        return bool(ok), max(0.0, int(wait_us) / 1e6)

    async def slow_down(self, key: str) -> None:
        args = [RECOVERY_PER_SECOND / 1e6, MIN_FACTOR, TTL_MS]
        if await self._slow(keys=[self._key(key)], args=args):
            log.info("campaign_rate_slowed", key=key)

    async def take(self, key: str) -> None:
        await self._take(keys=[self._key(key)])

    async def factor(self, key: str) -> float:
        raw = await self.redis.hmget(self._key(key), ["f", "t"])
        if raw[0] is None or raw[1] is None:
            return 1.0
        seconds, micros = await self.redis.time()
        now = seconds * 1_000_000 + micros
        return min(1.0, float(raw[0]) + (now - float(raw[1])) * RECOVERY_PER_SECOND / 1e6)

    async def close(self) -> None:
        await self.redis.aclose()


def number_key(phone_number_id: str) -> str:
    return f"n:{phone_number_id}"


def campaign_key(campaign_id: int) -> str:
    return f"c:{campaign_id}"


def make_pacer(redis_url: str | None, prefix: str) -> Pacer:
    """The pacer of an app or a worker process, which its API sends (``priority_send``) and
    its campaign engine share. Each owner makes and closes its own: a process-wide one was
    replaced by the last app created (tests create several, on different event loops), and
    closed by another app's shutdown while in use."""
    return RedisPacer(redis_url, prefix) if redis_url else MemoryPacer()


_BACKGROUND: set[asyncio.Task[None]] = set()


def priority_send(pacer: Pacer | None, phone_number_id: str) -> None:
    """An inbox or API send went out on this number: campaign traffic makes room for it
    (in the background; a failure only costs the campaign's politeness, never the send)."""
    if pacer is None:
        return

    async def take() -> None:
        try:
            await pacer.take(number_key(phone_number_id))
        except Exception as exc:  # Redis away: the send itself is unaffected
            log.warning("priority_take_failed", error=str(exc))

    task = asyncio.get_running_loop().create_task(take())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
