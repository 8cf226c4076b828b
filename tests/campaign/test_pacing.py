"""Pacing: a campaign sends at its rate, and several workers together keep to it (one
bucket per sending number: in Redis when configured, else in the process)."""

from __future__ import annotations

import asyncio

import pytest

from tests.campaign.conftest import Campaigns, until
from xobito.campaign.pacing import Bucket, MemoryPacer, Pacer, RedisPacer
from xobito.config import Settings


@pytest.mark.parametrize("workers", [1, 2])
async def test_2000_recipients_at_200_per_second_take_10_seconds(
    campaigns: Campaigns, settings: Settings, workers: int
) -> None:
    ct = await campaigns.tenant(rate=200)
    phones = await campaigns.many_contacts(ct, 2000)
    created = await campaigns.create(ct, rate_per_second=200)
    shared: Pacer = MemoryPacer()
    pacers: list[Pacer] = []
    for _ in range(workers):
        if settings.redis_url:  # as separate processes: each its own client of one bucket
            pacers.append(RedisPacer(settings.redis_url, settings.redis_prefix))
        else:  # SQLite: the workers of one process share its buckets
            pacers.append(shared)
    # The fake Graph shares this process (and its GIL) with the engines: on a loaded machine
    # its answers come late, and the provider's 30 s timeout would turn them into unknown
    # outcomes (failed, never resent). This test is about pacing and sending once, so the
    # answers are waited for; what a lost answer does is tested in test_meta_answers.
    engines = [campaigns.engine(pacer=p, timeout=600) for p in pacers]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(e.run(stop)) for e in engines]
    try:
        await until(lambda: len(campaigns.graph.sent) >= 2000, 180)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for p in set(pacers):
            await p.close()
    times = sorted(m.at for m in campaigns.graph.sent)
    duration = times[-1] - times[0]
    print(f"workers={workers}: 2000 sends in {duration:.2f} s")
    # Never faster than the rate (what Meta's limit needs, whatever the machine's load);
    # how close to it a loaded machine gets is measured by bench.campaign, not asserted.
    assert duration >= 9.0, f"1999 intervals of 5 ms take ~10 s, took {duration:.2f}"
    assert campaigns.graph.sent_counts() == {p.lstrip("+"): 1 for p in phones}
    if workers == 2:
        assert all(e.sent > 0 for e in engines), [e.sent for e in engines]
    shown = await campaigns.show(ct, created["id"])
    assert shown["counts"]["sent"] == 2000


async def test_thousands_of_sends_waiting_at_once_share_a_few_redis_connections(
    settings: Settings,
) -> None:
    """As many reservations at once as a campaign keeps in flight: each waits for one of
    the pacer's connections instead of failing (redis' plain pool refuses the 101st)."""
    if not settings.redis_url:
        pytest.skip("needs Redis (XOBITO_TEST_BACKEND=postgres)")
    pacer = RedisPacer(settings.redis_url, f"{settings.redis_prefix}:many", max_connections=4)
    try:
        bucket = [Bucket("number:many", 1_000_000)]
        answers = await asyncio.gather(*(pacer.reserve(bucket) for _ in range(2000)))
    finally:
        await pacer.close()
    assert all(reserved for reserved, _ in answers)
