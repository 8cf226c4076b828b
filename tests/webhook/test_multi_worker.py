"""Two worker processes share the outbox: leased claims (``FOR UPDATE SKIP LOCKED``) hand
each delivery to one of them, so a burst is delivered with no event sent twice.
PostgreSQL only."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.backends import Backend
from tests.factories import Factory
from tests.webhook.conftest import Hooks, Receiver
from tests.webhook.workers import queue_events, require_postgres, wait_delivered, worker

EVENTS = 2000


async def test_two_workers_deliver_a_burst_once_each(
    backend: Backend, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    require_postgres(backend)
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/burst", events=["contacts.created"])
    with tempfile.TemporaryDirectory(prefix="xobito-workers-") as tmp:
        workdir = Path(tmp)
        with worker(backend, workdir, "one") as one, worker(backend, workdir, "two") as two:
            await one.started()
            await two.started()  # both poll before the burst is committed
            ids = await queue_events(
                hooks.app.state.sessionmaker, t.workspace.id, e["id"], EVENTS, batch=EVENTS
            )
            await wait_delivered(hooks.session, EVENTS, [one, two])
    assert receiver.event_ids() == set(ids)
    assert len(receiver.hits) == EVENTS  # no event delivered twice
    logs = await hooks.logs()
    assert len(logs) == EVENTS
    assert {log.status_code for log in logs} == {200}
