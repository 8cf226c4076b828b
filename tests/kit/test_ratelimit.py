"""``kit.ratelimit.RateLimiter`` on the memory store (and Redis on the postgres backend), and
``kit.time.seconds_until_next_month``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.backends import Backend
from xobito.kit.ratelimit import RateLimiter
from xobito.kit.time import seconds_until_next_month


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest, backend: Backend) -> AsyncIterator[RateLimiter]:
    if request.param == "redis":
        if backend.redis_url is None:
            pytest.skip("Redis runs with the postgres backend only (XOBITO_TEST_BACKEND=postgres)")
        lim = RateLimiter(backend.redis_url, f"{backend.redis_prefix}-unit-{uuid.uuid4().hex[:8]}")
    else:
        lim = RateLimiter(None)
    yield lim
    await lim.reset()


async def test_admits_exactly_the_limit(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit("token/1", 3, 1) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert {d.limit for d in decisions} == {3}
    for d in decisions[3:]:  # only a refusal says when to come back
        assert 1 <= d.retry_after <= 60


async def test_a_burst_larger_than_the_redis_pool_waits_and_counts_exactly(
    backend: Backend,
) -> None:
    if backend.redis_url is None:
        pytest.skip("Redis runs with the postgres backend only (XOBITO_TEST_BACKEND=postgres)")
    prefix = f"{backend.redis_prefix}-burst-{uuid.uuid4().hex[:8]}"
    lim = RateLimiter(backend.redis_url, prefix, max_connections=2)
    try:
        decisions = await asyncio.gather(*(lim.hit("token/1", 25, 1) for _ in range(30)))
        assert sum(d.allowed for d in decisions) == 25
        assert sorted(d.remaining for d in decisions if d.allowed) == list(range(25))
    finally:
        await lim.reset()


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    assert (await limiter.hit("token/1", 1, 1)).allowed
    assert not (await limiter.hit("token/1", 1, 1)).allowed
    assert (await limiter.hit("token/2", 1, 1)).allowed


async def test_retry_after_follows_the_decay(limiter: RateLimiter) -> None:
    await limiter.hit("token/9", 1, 10)
    refused = await limiter.hit("token/9", 1, 10)
    assert not refused.allowed
    assert 60 < refused.retry_after <= 600


async def test_reset_forgets_every_counter(limiter: RateLimiter) -> None:
    await limiter.hit("token/1", 1, 1)
    await limiter.hit_quota("token/1", 1, datetime(2026, 4, 16, tzinfo=UTC))
    await limiter.reset()
    assert (await limiter.hit("token/1", 1, 1)).allowed
    assert (await limiter.hit_quota("token/1", 1, datetime(2026, 4, 16, tzinfo=UTC))).allowed


async def test_check_reports_the_store_is_up(limiter: RateLimiter) -> None:
    assert await limiter.check() is True


async def test_quota_counts_within_a_calendar_month(limiter: RateLimiter) -> None:
    april = datetime(2026, 4, 30, 23, 59, 0, tzinfo=UTC)
    decisions = [await limiter.hit_quota("token/5", 2, april) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.remaining for d in decisions] == [1, 0, 0]
    assert decisions[2].retry_after == 60
    assert decisions[2].limit == 2
    # A new month starts a new count; another token has its own.
    may = datetime(2026, 5, 1, 0, 0, 0, tzinfo=UTC)
    assert (await limiter.hit_quota("token/5", 2, may)).allowed
    assert (await limiter.hit_quota("token/6", 2, april)).allowed


async def test_quota_and_rate_counters_do_not_share_a_key(limiter: RateLimiter) -> None:
    now = datetime(2026, 4, 16, tzinfo=UTC)
    assert (await limiter.hit_quota("token/1", 1, now)).allowed
    assert (await limiter.hit("token/1", 1, 1)).allowed


# -- seconds_until_next_month -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 4, 16, 12, 0, 0, tzinfo=UTC), 14 * 86400 + 12 * 3600),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), 1),
        (datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC), 31 * 86400),
        (datetime(2026, 12, 15, 6, 0, 0, tzinfo=UTC), 16 * 86400 + 18 * 3600),
        (datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC), 28 * 86400),
        (datetime(2028, 2, 1, 0, 0, 0, tzinfo=UTC), 29 * 86400),
        (datetime(2026, 1, 31, 23, 0, 0, tzinfo=UTC), 3600),
    ],
    ids=[
        "mid-april",
        "december-last-second",
        "december-start",
        "mid-december",
        "feb",
        "leap-feb",
        "jan-end",
    ],
)
def test_seconds_until_next_month(now: datetime, expected: int) -> None:
    assert seconds_until_next_month(now) == expected


def test_december_rolls_over_into_january_of_next_year() -> None:
    now = datetime(2026, 12, 20, 8, 30, 15, tzinfo=UTC)
    n = seconds_until_next_month(now)
    assert now + timedelta(seconds=n) == datetime(2027, 1, 1, tzinfo=UTC)


def test_fractions_round_up_to_a_whole_second() -> None:
    now = datetime(2026, 6, 30, 23, 59, 58, 250_000, tzinfo=UTC)
    assert seconds_until_next_month(now) == 2


def test_other_time_zones_are_converted_to_utc() -> None:
    # 2026-05-01 01:00 in UTC+02:00 is still April 30, 23:00 UTC.
    now = datetime(2026, 5, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert seconds_until_next_month(now) == 3600
    # 2026-12-31 20:00 in UTC-05:00 is already January 1, 01:00 UTC.
    now = datetime(2026, 12, 31, 20, 0, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert seconds_until_next_month(now) == 30 * 86400 + 23 * 3600
