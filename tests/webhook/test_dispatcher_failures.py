"""How the dispatcher treats a receiver that pushes back or fails (docs/webhooks.md): Retry-After,
410 Gone, five days of failures, timeouts. Time is a fake clock; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant
from tests.webhook.conftest import FakeClock, Hooks, MakeDispatcher, Receiver
from xobito.models import WebhookDelivery
from xobito.webhook.dispatcher import Dispatcher

DAY = 86400.0


async def source(client: httpx.AsyncClient, t: Tenant, name: str) -> None:
    r = await client.post(t.url("/sources"), json={"name": name}, headers=t.headers)
    assert r.status_code == 201, r.text


async def webhook(client: httpx.AsyncClient, hooks: Hooks, t: Tenant, eid: int) -> Any:
    """The endpoint as the admin API lists it."""
    r = await client.get(f"{hooks.base(t)}/webhooks", headers=hooks.admin)
    (record,) = [x for x in r.json()["data"] if x["id"] == eid]
    return record


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_seconds_on_429_and_503_is_honoured(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
    status: int,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/h")
    receiver.respond("/h", status, then=200, retry_after="120")
    await source(client, t, "Web")
    clock = FakeClock()
    d = make_dispatcher(clock)
    assert await d.run_once() == 1
    clock.advance(1)  # the schedule alone would retry now
    assert await d.run_once() == 0
    clock.advance(118.5)
    assert await d.run_once() == 0
    clock.advance(0.5)
    assert await d.run_once() == 1
    assert [x.state for x in await hooks.deliveries()] == ["delivered"]


async def test_retry_after_as_an_http_date_is_honoured(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/h")
    await source(client, t, "Web")
    clock = FakeClock()
    clock.now = clock.now.replace(microsecond=0)  # HTTP dates have whole seconds
    due = clock.now + timedelta(minutes=10)
    receiver.respond("/h", 503, then=200, retry_after=format_datetime(due, usegmt=True))
    d = make_dispatcher(clock)
    assert await d.run_once() == 1
    clock.now = due - timedelta(seconds=1)
    assert await d.run_once() == 0
    clock.now = due
    assert await d.run_once() == 1


async def test_retry_after_is_ignored_on_other_statuses(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/h")
    receiver.respond("/h", 500, then=200, retry_after="3600")
    await source(client, t, "Web")
    clock = FakeClock()
    d = make_dispatcher(clock)
    await d.run_once()
    clock.advance(1)
    assert await d.run_once() == 1


async def test_410_gone_disables_the_endpoint_with_a_reason(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/gone")
    receiver.respond("/gone", then=410)
    await source(client, t, "One")
    await hooks.deliver()
    record = await webhook(client, hooks, t, e["id"])
    assert record["enabled"] == 0
    assert "410" in record["disabled_reason"]
    (delivery,) = await hooks.deliveries()
    assert (delivery.state, delivery.last_status_code) == ("failed", 410)
    await source(client, t, "Two")  # nothing more is queued or sent
    assert await hooks.count(WebhookDelivery) == 1
    clock = FakeClock()
    clock.advance(DAY)
    assert await make_dispatcher(clock).run_once() == 0
    assert len(receiver.at("/gone")) == 1


async def fail_at(client: httpx.AsyncClient, t: Tenant, d: Dispatcher, name: str) -> int:
    """A new event, and one dispatcher round at the clock's time."""
    await source(client, t, name)
    return await d.run_once()


async def test_five_days_of_failures_disable_the_endpoint(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/down")
    receiver.respond("/down", then=500)
    clock = FakeClock()
    d = make_dispatcher(clock, webhook_retry_schedule=(0,))  # one attempt per event
    start = clock.now
    assert await fail_at(client, t, d, "Day0") == 1
    clock.advance(4 * DAY)
    assert await fail_at(client, t, d, "Day4") == 1
    assert (await webhook(client, hooks, t, e["id"]))["enabled"] == 1
    clock.advance(DAY)
    assert await fail_at(client, t, d, "Day5") == 1
    record = await webhook(client, hooks, t, e["id"])
    assert record["enabled"] == 0
    assert "5 days" in record["disabled_reason"]
    assert start.strftime("%Y-%m-%d %H:%M") in record["disabled_reason"]
    clock.advance(60)
    assert await fail_at(client, t, d, "After") == 0
    assert len(receiver.at("/down")) == 3
    # Re-enabling clears the reason and the streak.
    r = await client.patch(
        f"{hooks.base(t)}/webhooks/{e['id']}", json={"enabled": True}, headers=hooks.admin
    )
    assert r.json()["data"]["disabled_reason"] is None
    assert r.json()["data"]["failing_since"] is None


async def test_a_success_in_between_resets_the_failure_streak(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/flaky")
    receiver.respond("/flaky", 500, 200, 500, 500, then=500)
    clock = FakeClock()
    d = make_dispatcher(clock, webhook_retry_schedule=(0,))
    await fail_at(client, t, d, "Day0")  # fails
    clock.advance(3 * DAY)
    await fail_at(client, t, d, "Day3")  # succeeds: the streak starts again
    assert (await hooks.endpoint_row(e["id"])).failing_since is None
    clock.advance(2 * DAY)
    await fail_at(client, t, d, "Day5")  # fails: day 0 of a new streak
    clock.advance(4.9 * DAY)
    await fail_at(client, t, d, "Day9.9")
    assert (await webhook(client, hooks, t, e["id"]))["enabled"] == 1
    clock.advance(0.1 * DAY)
    await fail_at(client, t, d, "Day10")
    assert (await webhook(client, hooks, t, e["id"]))["enabled"] == 0


async def test_a_receiver_slower_than_the_timeout_is_logged_as_an_error_and_retried(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/slow")
    receiver.respond("/slow", delay=5.0)
    await source(client, t, "Web")
    clock = FakeClock()
    d = make_dispatcher(clock, webhook_timeout_seconds=0.2)
    assert await d.run_once() == 1
    (log,) = await hooks.logs()
    assert log.status_code is None
    assert log.error == "Timed out after 0.2 s"
    (delivery,) = await hooks.deliveries()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    receiver.respond("/slow")  # the receiver is fast again
    clock.advance(1)
    assert await d.run_once() == 1
    assert [x.state for x in await hooks.deliveries()] == ["delivered"]
    assert len({h.event_id for h in receiver.at("/slow")}) == 1
