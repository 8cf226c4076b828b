"""The worker (docs/webhooks.md): batches, poison rows set aside, jobs retried and given up on."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.inbound.conftest import Line, Meta
from xobito.inbound.service import UNKNOWN_STATUS_JOB
from xobito.jobs.handlers import job_handlers, process_inbox
from xobito.jobs.repository import JobRepository
from xobito.jobs.worker import INBOX_MAX_ATTEMPTS, Worker
from xobito.testing.meta_webhooks import (
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
)


@pytest.fixture
def meta(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> Meta:
    return Meta(app, client, factory, admin_headers)


def text(line: Line, body: str, wamid: str) -> dict[str, Any]:
    return build_text_message_webhook(
        "16505551234",
        body,
        wamid=wamid,
        phone_number_id=line.phone_number_id,
        waba_id=line.waba_id,
    )


def poison(line: Line) -> dict[str, Any]:
    """Signed, valid JSON, routed to a real workspace, and impossible to process."""
    payload = text(line, "x", "wamid.POISON")
    payload["entry"][0]["changes"][0]["value"]["messages"] = 5
    return payload


async def test_a_poison_row_does_not_hold_up_its_batch(meta: Meta, app: FastAPI) -> None:
    line = await meta.line()
    await meta.deliver(text(line, "before", "wamid.B-1"), line.app_secret)
    await meta.deliver(poison(line), line.app_secret)
    await meta.deliver(text(line, "after", "wamid.B-2"), line.app_secret)

    assert await app.state.worker.run_once() == 3  # one round: the batch, then one by one
    good_1, bad, good_2 = await meta.inbox()
    assert good_1.processed_at is not None and good_2.processed_at is not None
    assert good_1.error is None and good_2.error is None
    assert bad.processed_at is None  # to be retried
    assert bad.attempts == 1
    assert bad.error is not None and "TypeError" in bad.error
    # The batch was rolled back and redone row by row: each good row took effect once.
    assert sorted(str(m.text) for m in await meta.messages()) == ["after", "before"]


async def test_a_poison_row_is_retried_then_set_aside(meta: Meta, app: FastAPI) -> None:
    line = await meta.line()
    await meta.deliver(poison(line), line.app_secret)
    for attempt in range(1, INBOX_MAX_ATTEMPTS):
        await app.state.worker.run_once()
        (event,) = await meta.inbox()
        assert (event.attempts, event.processed_at) == (attempt, None)
    await app.state.worker.run_once()
    (event,) = await meta.inbox()
    assert event.attempts == INBOX_MAX_ATTEMPTS
    assert event.processed_at is not None  # set aside: never stuck
    assert event.error is not None and "TypeError" in event.error
    # Nothing is left for the worker, and later deliveries go through.
    assert await app.state.worker.run_once() == 0
    await meta.deliver(text(line, "still flowing", "wamid.LATER"), line.app_secret)
    await meta.drain()
    assert [m.text for m in await meta.messages()] == ["still flowing"]


async def test_drain_always_terminates_with_a_poison_row(meta: Meta) -> None:
    line = await meta.line()
    await meta.deliver(poison(line), line.app_secret)
    await meta.drain()
    (event,) = await meta.inbox()
    assert event.processed_at is not None and event.attempts == INBOX_MAX_ATTEMPTS


async def test_a_job_without_handler_is_retried_then_given_up(meta: Meta, app: FastAPI) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.KNOWN")
    status = {"id": "wamid.KNOWN", "status": "delivered", "timestamp": "1750000000"}
    async with app.state.sessionmaker() as s:
        JobRepository(s).enqueue("no.such.kind", {"x": 1}, max_attempts=3)
        JobRepository(s).enqueue(
            UNKNOWN_STATUS_JOB, {"workspace_id": line.workspace_id, "status": status}
        )
        await s.commit()

    await meta.drain()
    bad, good = await meta.jobs()
    # The good job of the same batch ran, alone after the batch failed.
    assert good.finished_at is not None and good.last_error is None and good.attempts == 1
    assert (await meta.message("wamid.KNOWN")).status == "delivered"
    assert bad.finished_at is None and bad.attempts == 1
    assert bad.last_error is not None and "no handler" in bad.last_error

    for _ in range(5):
        await meta.make_jobs_due()
        await meta.drain()
    bad, _ = await meta.jobs()
    assert bad.attempts == 3
    assert bad.finished_at is not None  # given up, with its error kept


async def test_a_batch_is_bounded_by_the_batch_size(meta: Meta, app: FastAPI) -> None:
    line = await meta.line()
    for i in range(5):
        await meta.deliver(text(line, f"m{i}", f"wamid.BATCH-{i}"), line.app_secret)
    worker = Worker(
        app.state.sessionmaker, job_handlers(app.state.providers), process_inbox, batch_size=2
    )
    assert await worker.run_once() == 2
    assert [e.processed_at is not None for e in await meta.inbox()] == [True] * 2 + [False] * 3
    assert await worker.drain() == 3
    assert all(e.processed_at is not None for e in await meta.inbox())
    assert len(await meta.messages()) == 5


async def test_a_running_worker_processes_deliveries_and_stops(meta: Meta, app: FastAPI) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.LIVE")
    worker = Worker(
        app.state.sessionmaker, job_handlers(app.state.providers), process_inbox, poll_seconds=0.05
    )
    task = asyncio.create_task(worker.run())
    try:
        update = StatusUpdate("wamid.LIVE", "read", "14155550100", timestamp=1750000000)
        payload = build_status_webhook(
            [update], phone_number_id=line.phone_number_id, waba_id=line.waba_id
        )
        await meta.deliver(payload, line.app_secret)
        worker.wake()
        deadline = time.monotonic() + 20
        while (await meta.message("wamid.LIVE")).status != "read":
            assert time.monotonic() < deadline, "the worker did not process the delivery"
            await asyncio.sleep(0.02)
    finally:
        worker.stop()
        await asyncio.wait_for(task, 20)
    assert task.done() and task.exception() is None
    (event,) = await meta.inbox()
    assert event.processed_at is not None and event.error is None
