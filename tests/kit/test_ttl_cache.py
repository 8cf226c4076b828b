"""``TTLCache``: expiry, and ``load`` sharing one load among concurrent misses."""

from __future__ import annotations

import asyncio

from xobito.kit.ttl_cache import TTLCache


class Loader:
    """Counts its calls; each call waits until released, so calls overlap for real."""

    def __init__(self, value: object = "value", fail_first: bool = False) -> None:
        self.calls = 0
        self.value = value
        self.fail_first = fail_first
        self.release = asyncio.Event()

    async def __call__(self) -> object:
        self.calls += 1
        call = self.calls
        await self.release.wait()
        if self.fail_first and call == 1:
            raise RuntimeError("database went away")
        return self.value


async def settle() -> None:
    for _ in range(5):  # let every started task reach its first await
        await asyncio.sleep(0)


async def test_concurrent_misses_share_one_load() -> None:
    cache: TTLCache[str, object] = TTLCache(60)
    loader = Loader()
    tasks = [asyncio.ensure_future(cache.load("k", loader)) for _ in range(10)]
    await settle()
    loader.release.set()
    assert await asyncio.gather(*tasks) == ["value"] * 10
    assert loader.calls == 1
    assert await cache.load("k", Loader("other")) == "value"  # now cached


async def test_a_falsy_value_is_cached_too() -> None:
    cache: TTLCache[str, object] = TTLCache(60)
    first, second = Loader(None), Loader("not asked")
    first.release.set()
    assert await cache.load("k", first) is None
    assert await cache.load("k", second) is None
    assert second.calls == 0


async def test_a_failed_load_fails_its_waiters_and_the_next_miss_loads_again() -> None:
    cache: TTLCache[str, object] = TTLCache(60)
    loader = Loader(fail_first=True)
    first = asyncio.ensure_future(cache.load("k", loader))
    await settle()
    waiters = [asyncio.ensure_future(cache.load("k", loader)) for _ in range(3)]
    await settle()
    loader.release.set()
    results = await asyncio.gather(first, *waiters, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results), results
    assert loader.calls == 1  # one load, one failure for all
    assert await cache.load("k", loader) == "value"
    assert loader.calls == 2


async def test_a_cancelled_loader_makes_its_waiters_load_again() -> None:
    cache: TTLCache[str, object] = TTLCache(60)
    loader = Loader()
    first = asyncio.ensure_future(cache.load("k", loader))
    await settle()
    waiter = asyncio.ensure_future(cache.load("k", loader))
    await settle()
    first.cancel()
    await settle()
    loader.release.set()
    assert await waiter == "value"
    assert first.cancelled()
    assert loader.calls == 2


async def test_a_caller_that_must_not_wait_loads_alone() -> None:
    """A caller holding a database connection must not wait for a load that may itself be
    waiting for one: it loads by itself, and the shared load goes on for the others."""
    cache: TTLCache[str, object] = TTLCache(60)
    shared = Loader()
    first = asyncio.ensure_future(cache.load("k", shared))
    await settle()
    own = Loader("own")
    own.release.set()
    assert await cache.load("k", own, wait=False) == "own"
    assert not first.done()  # still waiting for its own load
    shared.release.set()
    assert await first == "value"
    assert (shared.calls, own.calls) == (1, 1)


async def test_a_cancelled_waiter_does_not_cancel_the_load() -> None:
    cache: TTLCache[str, object] = TTLCache(60)
    loader = Loader()
    first = asyncio.ensure_future(cache.load("k", loader))
    await settle()
    waiter = asyncio.ensure_future(cache.load("k", loader))
    await settle()
    waiter.cancel()
    loader.release.set()
    assert await first == "value"
    assert waiter.cancelled()
    assert loader.calls == 1


async def test_without_ttl_nothing_is_kept_but_a_load_in_flight_is_shared() -> None:
    cache: TTLCache[str, object] = TTLCache(0)
    loader = Loader()
    tasks = [asyncio.ensure_future(cache.load("k", loader)) for _ in range(3)]
    await settle()
    loader.release.set()
    assert await asyncio.gather(*tasks) == ["value"] * 3
    assert loader.calls == 1
    assert await cache.load("k", loader) == "value"
    assert loader.calls == 2  # not cached: loaded again


def test_entries_expire() -> None:
    cache: TTLCache[str, int] = TTLCache(60)
    cache.put("k", 1)
    assert cache.get("k") == 1
    cache.ttl = -1
    cache.put("gone", 2)  # a non-positive TTL keeps nothing
    assert cache.get("gone") is None
    cache._items["k"] = (0.0, 1)  # expired long ago
    assert cache.get("k") is None
