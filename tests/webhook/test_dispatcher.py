"""The dispatcher's retry schedule, attempt log and concurrency (docs/webhooks.md).

Time is a fake clock injected into the dispatcher: nothing sleeps, the tests move the clock
and call ``run_once`` (claim what is due, wait for the sends, record the results).
"""

from __future__ import annotations

import httpx

from tests.factories import Factory, Tenant
from tests.servers import free_port
from tests.webhook.conftest import FakeClock, Hooks, MakeDispatcher, Receiver
from xobito.config import Settings


async def sources(client: httpx.AsyncClient, t: Tenant, *names: str) -> None:
    """One ``sources.created`` event per name."""
    for name in names:
        r = await client.post(t.url("/sources"), json={"name": name}, headers=t.headers)
        assert r.status_code == 201, r.text


async def test_a_failing_endpoint_is_retried_on_the_schedule_then_given_up(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
    settings: Settings,
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/h")
    answer = b"upstream exploded " * 100
    receiver.respond("/h", then=500, body=answer)
    await sources(client, t, "Web")
    clock = FakeClock()
    start = clock.now
    d = make_dispatcher(clock)
    schedule = list(settings.webhook_retry_schedule)
    assert schedule[:5] == [0, 1, 2, 30, 300]  # immediately, +1 s, +2 s, +30 s, +5 min, ...
    for i, delay in enumerate(schedule):
        if i:
            clock.advance(delay - 0.5)
            assert await d.run_once() == 0, f"attempt {i + 1} came early"
            clock.advance(0.5)
        assert await d.run_once() == 1, f"attempt {i + 1} did not come at +{delay} s"
    clock.advance(365 * 86400)
    assert await d.run_once() == 0  # given up

    hits = receiver.at("/h")
    assert len(hits) == len(schedule)
    assert len({h.event_id for h in hits}) == 1
    (delivery,) = await hooks.deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 10, 500)
    assert delivery.delivered_at is None
    logs = await hooks.logs()
    assert [log.attempt for log in logs] == list(range(1, len(schedule) + 1))
    elapsed = [(log.created_at - start).total_seconds() for log in logs]
    assert elapsed == [sum(schedule[1 : i + 1]) for i in range(len(schedule))]
    for log in logs:
        assert (log.status_code, log.error, log.endpoint_id) == (500, None, e["id"])
        assert log.event_id == hits[0].event_id and log.event == "created"
        assert log.response_excerpt and 0 < len(log.response_excerpt) <= 1024
        assert answer.decode().startswith(log.response_excerpt)
        assert isinstance(log.duration_ms, int) and log.duration_ms >= 0
    row = await hooks.endpoint_row(e["id"])
    assert row.enabled  # about 28 hours of failures: not yet the 5 days that disable
    assert row.failing_since == start


async def test_the_schedule_is_configurable(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/h")
    receiver.respond("/h", then=502)
    await sources(client, t, "Web")
    clock = FakeClock()
    d = make_dispatcher(clock, webhook_retry_schedule=(0, 7))
    assert await d.run_once() == 1
    clock.advance(6.5)
    assert await d.run_once() == 0
    clock.advance(0.5)
    assert await d.run_once() == 1
    clock.advance(86400)
    assert await d.run_once() == 0
    assert [x.state for x in await hooks.deliveries()] == ["failed"]
    assert len(receiver.at("/h")) == 2


async def test_a_success_after_failures_is_delivered_and_logged(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/h")
    receiver.respond("/h", 500, 503, then=204)
    await sources(client, t, "Web")
    clock = FakeClock()
    d = make_dispatcher(clock)
    await d.run_once()
    clock.advance(1)
    await d.run_once()
    clock.advance(2)
    await d.run_once()
    (delivery,) = await hooks.deliveries()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 204)
    assert delivery.delivered_at == clock.now
    assert [(x.attempt, x.status_code) for x in await hooks.logs()] == [
        (1, 500),
        (2, 503),
        (3, 204),
    ]
    assert (await hooks.endpoint_row(e["id"])).failing_since is None


async def test_a_network_error_is_logged_and_retried(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    await sources(client, t, "Web")
    clock = FakeClock()
    d = make_dispatcher(clock)
    assert await d.run_once() == 1
    (log,) = await hooks.logs()
    assert log.status_code is None
    assert log.error and "Connect" in log.error
    (delivery,) = await hooks.deliveries()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    clock.advance(1)
    assert await d.run_once() == 1


async def test_a_slow_endpoint_does_not_hold_up_another(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    """A's request is answered only once B's has arrived: a dispatcher that sent one at a
    time (A's came first) would leave A waiting until the gate gives up."""
    t = await factory.tenant()
    await hooks.endpoint(t, "/a", events=["sources.created"])
    await hooks.endpoint(t, "/b", events=["sources.updated"])
    receiver.respond("/a", gate="/b")
    await sources(client, t, "Web")
    r = await client.get(t.url("/sources"), headers=t.headers)
    sid = r.json()["data"]["data"][0]["id"]
    await client.put(t.url(f"/sources/{sid}"), json={"name": "Webs"}, headers=t.headers)
    assert await hooks.app.state.dispatcher.run_once() == 2
    (a,), (b,) = receiver.at("/a"), receiver.at("/b")
    assert a.at <= b.at  # A was sent first ...
    assert a.released_by_gate is True  # ... and still B arrived while A was outstanding
    assert a.answered_at is not None and b.at < a.answered_at
    assert {x.state for x in await hooks.deliveries()} == {"delivered"}


async def test_each_endpoint_has_its_own_cap_of_requests_in_flight(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/busy", events=["sources.created"])
    await sources(client, t, *(f"S{i}" for i in range(5)))
    await hooks.endpoint(t, "/other", events=["sources.created"])
    await sources(client, t, "Last")
    d = make_dispatcher(FakeClock(), webhook_max_in_flight_per_endpoint=2)
    await d.run_once()
    assert len(receiver.at("/busy")) == 2  # the rest were given back, not sent
    assert len(receiver.at("/other")) == 1  # another endpoint is not held up by the cap
    assert len(await hooks.logs()) == 3  # a given-back delivery is not an attempt
    await d.run_once()
    await d.run_once()
    assert len(receiver.at("/busy")) == 6
    assert len(receiver.event_ids()) == 6
    assert {(x.state, x.attempts) for x in await hooks.deliveries()} == {("delivered", 1)}
