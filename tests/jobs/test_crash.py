"""A worker killed mid-batch loses nothing and repeats nothing (docs/webhooks.md, PostgreSQL).

A batch's effects and its rows' "processed" marks commit in one transaction, so SIGKILL in
the middle of a batch rolls the whole batch back; the next worker does it exactly once.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from tests.inbound.conftest import Meta
from tests.jobs.conftest import (
    WorkerProcess,
    check_exactly_once,
    make_backlog,
    pending_rows,
    wait_for,
    writing_transactions,
)


async def test_sigkill_mid_batch_then_restart_processes_every_row_once(
    meta: Meta, app: FastAPI, workers: Callable[[], WorkerProcess]
) -> None:
    backlog = await make_backlog(meta)
    assert backlog.rows == 1800
    assert await pending_rows(app) == backlog.rows

    first = workers()

    async def mid_batch() -> bool:
        assert first.alive(), first.output()
        pending = await pending_rows(app)
        # Some batches committed, more to do, and a batch with writes is open right now.
        return 0 < pending < backlog.rows - 200 and await writing_transactions(app) > 0

    await wait_for(mid_batch, 120, "the worker to be in the middle of a batch")
    first.kill()
    left = await pending_rows(app)
    assert 0 < left < backlog.rows, "killed after some, not all, of the backlog"

    second = workers()

    async def drained() -> bool:
        assert second.alive(), second.output()
        return await pending_rows(app) == 0

    await wait_for(drained, 180, "the restarted worker to empty the inbox")
    assert second.stop() == 0, second.output()
    await check_exactly_once(app, backlog, in_order=True)
