"""A worker killed mid-delivery loses nothing (docs/webhooks.md: at-least-once; receivers
de-duplicate
on ``X-Webhook-Id``). PostgreSQL only."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import func, select

from tests.backends import Backend
from tests.factories import Factory
from tests.webhook.conftest import Hooks, Receiver
from tests.webhook.workers import queue_events, require_postgres, wait_delivered, worker
from xobito.models import WebhookDelivery

EVENTS = 5000
FIRST_BATCH = 300  # the receiver answers these, then holds requests until released


async def test_a_killed_worker_loses_no_event(
    backend: Backend, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    require_postgres(backend)
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/crash", events=["contacts.created"])
    ids = await queue_events(hooks.app.state.sessionmaker, t.workspace.id, e["id"], EVENTS)
    assert len(set(ids)) == EVENTS
    # Past the first batch, requests hang: the worker is certainly mid-delivery when killed.
    receiver.hold(after=FIRST_BATCH)
    with tempfile.TemporaryDirectory(prefix="xobito-crash-") as tmp:
        workdir = Path(tmp)
        # A short timeout makes the killed worker's leases (timeout + 5 s) run out soon.
        with worker(backend, workdir, "first", webhook_timeout_seconds="2") as first:
            await receiver.wait_for(FIRST_BATCH + 1)
            first.kill()
        got = len(receiver.event_ids())
        assert FIRST_BATCH < got < EVENTS, got
        await hooks.session.rollback()
        leased = await hooks.session.scalar(
            select(func.count()).where(
                WebhookDelivery.state == "pending", WebhookDelivery.leased_until.is_not(None)
            )
        )
        assert leased and leased > 0  # claimed by the dead worker, not recorded
        receiver.release()

        with worker(backend, workdir, "second", webhook_timeout_seconds="2") as second:
            await wait_delivered(hooks.session, EVENTS, [second])

    assert len(receiver.hits) >= EVENTS
    assert receiver.event_ids() == set(ids)  # every event at least once, nothing foreign
    assert len(receiver.event_ids()) == EVENTS
    bodies = {h.event_id: h.body for h in receiver.hits}
    assert all(h.body == bodies[h.event_id] for h in receiver.hits)  # redelivered unchanged
