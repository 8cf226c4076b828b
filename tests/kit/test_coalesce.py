"""``CoalescingCounter``: concurrent increments share storage calls, each with its own count."""

from __future__ import annotations

import asyncio

import pytest

from xobito.kit.coalesce import CoalescingCounter


class Store:
    """An in-memory counter store whose calls stay in flight until released."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.calls: list[int] = []  # the amount of each call
        self.gate = asyncio.Event()
        self.fail_next = False

    async def incr(self, key: str, expiry: int, amount: int) -> int:
        self.calls.append(amount)
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("redis went away")
        self.values[key] = self.values.get(key, 0) + amount
        return self.values[key]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_increment_goes_straight_through() -> None:
    store = Store()
    store.gate.set()
    counter = CoalescingCounter(store.incr)
    assert [await counter.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.calls == [1, 1, 1]


async def test_increments_arriving_during_a_call_share_the_next_one() -> None:
    store = Store()
    counter = CoalescingCounter(store.incr)
    first = asyncio.ensure_future(counter.incr("k", 60))
    await settle()  # the first call is in flight
    rest = [asyncio.ensure_future(counter.incr("k", 60)) for _ in range(9)]
    other_key = asyncio.ensure_future(counter.incr("other", 60))
    await settle()
    store.gate.set()
    counts = await asyncio.gather(first, *rest)
    assert sorted(counts) == list(range(1, 11))  # distinct, as if one by one
    assert await other_key == 1
    assert sorted(store.calls) == [1, 1, 9]  # k: 1 then 9 together; other: 1


async def test_a_failed_call_fails_its_batch_only() -> None:
    store = Store()
    counter = CoalescingCounter(store.incr)
    store.fail_next = True
    first = asyncio.ensure_future(counter.incr("k", 60))
    await settle()
    second = [asyncio.ensure_future(counter.incr("k", 60)) for _ in range(2)]
    await settle()
    store.gate.set()
    with pytest.raises(ConnectionError):
        await first
    assert sorted(await asyncio.gather(*second)) == [1, 2]  # the failed one never counted
    assert await counter.incr("k", 60) == 3


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    store = Store()
    counter = CoalescingCounter(store.incr)
    first = asyncio.ensure_future(counter.incr("k", 60))
    await settle()
    cancelled = asyncio.ensure_future(counter.incr("k", 60))
    kept = asyncio.ensure_future(counter.incr("k", 60))
    await settle()
    cancelled.cancel()
    store.gate.set()
    assert await first == 1
    assert await kept in (2, 3)
    assert cancelled.cancelled()
    assert store.values["k"] == 3  # a request cancelled while waiting still counts
