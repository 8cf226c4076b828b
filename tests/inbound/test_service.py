"""Processing stored webhooks (docs/api/messages.md, docs/webhooks.md): redeliveries, statuses,
retries, templates."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.inbound.conftest import Line, Meta, add_template, at, template_statuses, template_update
from xobito.inbound.service import UNKNOWN_STATUS_JOB, InboundProcessor
from xobito.kit.time import utcnow
from xobito.testing.meta_webhooks import (
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
)

CUSTOMER = "14155550100"


def statuses(line: Line, *updates: StatusUpdate) -> dict[str, Any]:
    return build_status_webhook(updates, phone_number_id=line.phone_number_id, waba_id=line.waba_id)


def update(wamid: str, status: Any, ts: int, **kw: Any) -> StatusUpdate:
    return StatusUpdate(wamid, status, CUSTOMER, timestamp=ts, **kw)


def text(line: Line, body: str, **kw: Any) -> dict[str, Any]:
    return build_text_message_webhook(
        "16505551234", body, phone_number_id=line.phone_number_id, waba_id=line.waba_id, **kw
    )


# -- redeliveries ------------------------------------------------------------------------------


async def test_same_message_delivered_twice_is_stored_once(meta: Meta) -> None:
    line = await meta.line()
    payload = text(line, "only once", wamid="wamid.DUP-1", profile_name="Sheena Nelson")
    await meta.deliver(payload, line.app_secret)
    await meta.deliver(payload, line.app_secret)  # same batch
    await meta.drain()
    await meta.deliver(payload, line.app_secret)  # a later batch
    await meta.drain()
    (message,) = await meta.messages(line.workspace_id)
    assert message.wamid == "wamid.DUP-1"
    assert len(await meta.contacts(line.workspace_id)) == 1
    events = await meta.inbox()
    assert len(events) == 3
    assert all(e.processed_at is not None and e.error is None for e in events)


async def test_same_status_delivered_twice_is_applied_once(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.S-1")
    payload = statuses(line, update("wamid.S-1", "delivered", 1_750_000_100))
    await meta.deliver(payload, line.app_secret)
    await meta.deliver(payload, line.app_secret)
    await meta.drain()
    # A redelivery sent later (Meta may restamp it) changes nothing either.
    later = statuses(line, update("wamid.S-1", "delivered", 1_750_000_900))
    await meta.deliver(later, line.app_secret)
    await meta.drain()
    message = await meta.message("wamid.S-1")
    assert message.status == "delivered"
    assert message.delivered_at == at(1_750_000_100)


async def test_processor_reports_whether_a_status_moved_the_message(
    meta: Meta, app: FastAPI
) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.S-2")
    status = {"id": "wamid.S-2", "status": "delivered", "timestamp": "1750000100"}
    moved = []
    for _ in range(2):
        async with app.state.sessionmaker() as s:
            moved.append(await InboundProcessor(s).status(line.workspace_id, status))
            await s.commit()
    assert moved == [True, False]


# -- the state machine end to end (docs/api/messages.md) ---


async def test_sent_delivered_read_record_metas_timestamps(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.E2E", status="pending")
    for status, ts in (("sent", 1_750_000_000), ("delivered", 1_750_000_060)):
        await meta.deliver(statuses(line, update("wamid.E2E", status, ts)), line.app_secret)
        await meta.drain()
        assert (await meta.message("wamid.E2E")).status == status
    await meta.deliver(statuses(line, update("wamid.E2E", "read", 1_750_000_120)), line.app_secret)
    await meta.drain()
    message = await meta.message("wamid.E2E")
    assert message.status == "read"
    assert message.sent_at == at(1_750_000_000)
    assert message.delivered_at == at(1_750_000_060)
    assert message.read_at == at(1_750_000_120)
    assert message.failed_at is None and message.error_message is None


async def test_statuses_in_one_payload_apply_in_order(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.ONE")
    payload = statuses(
        line,
        update("wamid.ONE", "read", 1_750_000_120),
        update("wamid.ONE", "delivered", 1_750_000_060),  # late: a regression, ignored
    )
    await meta.deliver(payload, line.app_secret)
    await meta.drain()
    message = await meta.message("wamid.ONE")
    assert message.status == "read"
    assert message.read_at == at(1_750_000_120)


async def test_failed_records_metas_error_code_and_title(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.F-1")
    failure = update(
        "wamid.F-1", "failed", 1_750_000_200, error_code=131026, error_title="Message undeliverable"
    )
    await meta.deliver(statuses(line, failure), line.app_secret)
    await meta.drain()
    message = await meta.message("wamid.F-1")
    assert message.status == "failed"
    assert message.failed_at == at(1_750_000_200)
    assert message.error_code == 131026
    assert message.error_message is not None
    assert "131026" in message.error_message
    assert "Message undeliverable" in message.error_message


async def test_failed_applies_from_pending(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.F-P", status="pending")
    failure = update("wamid.F-P", "failed", 1_750_000_200, error_code=131047)
    await meta.deliver(statuses(line, failure), line.app_secret)
    await meta.drain()
    message = await meta.message("wamid.F-P")
    assert message.status == "failed"
    assert message.error_code == 131047


async def test_failed_after_delivered_or_read_is_ignored(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.F-D", status="delivered", phone="+14155550101")
    await meta.outbound(line, "wamid.F-R", status="read", phone="+14155550102")
    for wamid in ("wamid.F-D", "wamid.F-R"):
        await meta.deliver(
            statuses(line, update(wamid, "failed", 1_750_000_300, error_code=131026)),
            line.app_secret,
        )
    await meta.drain()
    for wamid, state in (("wamid.F-D", "delivered"), ("wamid.F-R", "read")):
        message = await meta.message(wamid)
        assert message.status == state
        assert message.failed_at is None and message.error_message is None


async def test_delivered_after_failed_applies(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.F-THEN-D")
    await meta.deliver(
        statuses(line, update("wamid.F-THEN-D", "failed", 1_750_000_000, error_code=131026)),
        line.app_secret,
    )
    await meta.drain()
    await meta.deliver(
        statuses(line, update("wamid.F-THEN-D", "delivered", 1_750_000_050)), line.app_secret
    )
    await meta.drain()
    message = await meta.message("wamid.F-THEN-D")
    assert message.status == "delivered"
    assert message.delivered_at == at(1_750_000_050)
    assert message.failed_at == at(1_750_000_000)  # the history is kept


async def test_regressions_are_ignored(meta: Meta) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.REG")
    await meta.deliver(statuses(line, update("wamid.REG", "read", 1_750_000_100)), line.app_secret)
    await meta.drain()
    for status in ("delivered", "sent", "read"):
        await meta.deliver(
            statuses(line, update("wamid.REG", status, 1_750_009_999)), line.app_secret
        )
    await meta.drain()
    message = await meta.message("wamid.REG")
    assert message.status == "read"
    assert message.read_at == at(1_750_000_100)
    assert all(e.error is None for e in await meta.inbox())


async def test_a_status_never_moves_an_inbound_message(meta: Meta) -> None:
    line = await meta.line()
    await meta.deliver(text(line, "hi", wamid="wamid.IN-1"), line.app_secret)
    await meta.drain()
    await meta.deliver(statuses(line, update("wamid.IN-1", "read", 1_750_000_100)), line.app_secret)
    await meta.drain()
    message = await meta.message("wamid.IN-1")
    assert message.direction == "inbound"
    assert message.status == "received"
    assert message.read_at is None


async def test_status_for_another_workspaces_message_is_not_applied(meta: Meta) -> None:
    line_a = await meta.line()
    line_b = await meta.line()
    await meta.outbound(line_a, "wamid.OF-A")
    # B's number reports a status for A's message: matched within B only.
    await meta.deliver(
        statuses(line_b, update("wamid.OF-A", "read", 1_750_000_100)), line_b.app_secret
    )
    await meta.drain()
    assert (await meta.message("wamid.OF-A")).status == "sent"


# -- a status that arrives before its send committed -------------------------------------------


async def test_status_for_unknown_wamid_is_retried_until_the_message_exists(meta: Meta) -> None:
    line = await meta.line()
    await meta.deliver(
        statuses(line, update("wamid.EARLY", "delivered", 1_750_000_060)), line.app_secret
    )
    await meta.drain()
    (job,) = await meta.jobs(UNKNOWN_STATUS_JOB)
    assert job.finished_at is None
    assert job.run_at > utcnow()  # later, not now
    assert (await meta.inbox())[0].processed_at is not None  # the inbox row is done

    # Still unknown when it first runs: it stays queued, with the reason.
    await meta.make_jobs_due()
    await meta.drain()
    (job,) = await meta.jobs(UNKNOWN_STATUS_JOB)
    assert job.finished_at is None and job.attempts == 1 and job.last_error

    await meta.outbound(line, "wamid.EARLY")  # the send commits
    await meta.make_jobs_due()
    await meta.drain()
    (job,) = await meta.jobs(UNKNOWN_STATUS_JOB)
    assert job.finished_at is not None
    message = await meta.message("wamid.EARLY")
    assert message.status == "delivered"
    assert message.delivered_at == at(1_750_000_060)


async def test_status_retry_for_a_message_that_never_appears_gives_up(meta: Meta) -> None:
    line = await meta.line()
    await meta.deliver(
        statuses(line, update("wamid.NEVER", "read", 1_750_000_060)), line.app_secret
    )
    await meta.drain()
    for _ in range(10):
        await meta.make_jobs_due()
        await meta.drain()
    (job,) = await meta.jobs(UNKNOWN_STATUS_JOB)
    assert job.finished_at is not None  # set aside, not retried forever
    assert job.attempts == job.max_attempts
    assert job.last_error is not None and "not known" in job.last_error
    assert await meta.messages() == []


# -- template status updates -------------------------------------------------------------------


async def test_template_status_update_changes_the_templates_status(
    meta: Meta, app: FastAPI
) -> None:
    line = await meta.line()
    other = await meta.line()
    await add_template(app, line, "987654321", "PENDING")
    await add_template(app, other, "987654321", "PENDING")  # same Meta id, other WABA
    resp = await meta.post(template_update(line.waba_id, 987654321, "APPROVED"), line.app_secret)
    assert resp.status_code == 200
    await meta.drain()
    assert await template_statuses(meta) == {
        line.workspace_id: "APPROVED",
        other.workspace_id: "PENDING",
    }
    await meta.deliver(template_update(line.waba_id, 987654321, "PAUSED"), line.app_secret)
    await meta.drain()
    assert (await template_statuses(meta))[line.workspace_id] == "PAUSED"
    assert all(e.error is None for e in await meta.inbox())


async def test_template_status_update_signed_by_another_waba_is_401(
    meta: Meta, app: FastAPI
) -> None:
    line = await meta.line()
    other = await meta.line()
    await add_template(app, line, "987654321", "PENDING")
    resp = await meta.post(template_update(line.waba_id, 987654321, "REJECTED"), other.app_secret)
    assert resp.status_code == 401
    await meta.drain()
    assert (await template_statuses(meta))[line.workspace_id] == "PENDING"


# -- the customer care window ------------------------------------------------------------------


async def test_inbound_message_opens_the_care_window(meta: Meta, client: httpx.AsyncClient) -> None:
    line = await meta.line(provider="sandbox")
    send = {"phone_number": "+16505551234", "message_body": "Thanks for writing"}
    url, headers = line.tenant.url("/messages/send"), line.tenant.headers
    resp = await client.post(url, json=send, headers=headers)
    assert resp.status_code == 422  # nobody wrote yet
    assert "care window" in resp.json()["errors"]["phone_number"][0]

    await meta.deliver(text(line, "Hello there"), line.app_secret)
    await meta.drain()
    resp = await client.post(url, json=send, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["contact_created"] is False
