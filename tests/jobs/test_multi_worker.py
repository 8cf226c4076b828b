"""Two ``xobito worker`` processes over one backlog (docs/webhooks.md, PostgreSQL).

Rows are claimed with ``FOR UPDATE SKIP LOCKED``: no row is taken by both, none is missed,
and the races between them (the same sender's contact, the same message's statuses) end
without errors.
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
)


async def test_two_workers_process_every_row_exactly_once(
    meta: Meta, app: FastAPI, workers: Callable[[], WorkerProcess]
) -> None:
    backlog = await make_backlog(meta)
    pair = [workers(), workers()]

    async def drained() -> bool:
        for worker in pair:
            assert worker.alive(), worker.output()
        return await pending_rows(app) == 0

    await wait_for(drained, 180, "two workers to empty the inbox")
    for worker in pair:
        assert worker.stop() == 0, worker.output()
    # Statuses of one message may be taken by different workers: only the end state is fixed.
    await check_exactly_once(app, backlog, in_order=False)
