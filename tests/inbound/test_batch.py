"""One worker batch of many stored webhooks (docs/api/messages.md, docs/webhooks.md): the same end
state and the
same outbox events, in the same order, as processing the bodies one at a time."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import select

from tests.inbound.conftest import Line, Meta, at
from xobito.inbound.service import UNKNOWN_STATUS_JOB
from xobito.jobs.handlers import job_handlers, process_inbox
from xobito.jobs.worker import Worker
from xobito.models import WebhookDelivery, WebhookEvent
from xobito.testing.meta_webhooks import (
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
)

CUSTOMER = "14155550100"
SENDER = "16505551234"


def status(line: Line, wamid: str, name: Any, ts: int, **kw: Any) -> dict[str, Any]:
    update = StatusUpdate(wamid, name, CUSTOMER, timestamp=ts, **kw)
    return build_status_webhook(
        [update], phone_number_id=line.phone_number_id, waba_id=line.waba_id
    )


def text(line: Line, body: str, wamid: str, ts: int, sender: str = SENDER) -> dict[str, Any]:
    return build_text_message_webhook(
        sender,
        body,
        wamid=wamid,
        timestamp=ts,
        profile_name="Sheena Nelson",
        phone_number_id=line.phone_number_id,
        waba_id=line.waba_id,
    )


def poison(line: Line) -> dict[str, Any]:
    payload = text(line, "x", "wamid.POISON", 1_750_000_000)
    payload["entry"][0]["changes"][0]["value"]["messages"] = 5
    return payload


async def subscribe(meta: Meta, line: Line) -> None:
    """An endpoint listening to every event, so that the outbox is written."""
    url = f"/api/admin/workspaces/{line.tenant.workspace.subdomain}/webhooks"
    body = {"url": "http://127.0.0.1:9/hook"}
    resp = await meta.client.post(url, json=body, headers=meta.admin)
    assert resp.status_code == 201, resp.text


async def events(meta: Meta, workspace_id: int) -> list[tuple[str, str | None, str | None]]:
    """``(event, wamid, status)`` of the workspace's outbox, in the order written (CRUD
    events have neither)."""
    rows = await meta.scalars(
        select(WebhookEvent)
        .where(WebhookEvent.workspace_id == workspace_id)
        .order_by(WebhookEvent.id)
    )
    out = []
    for row in rows:
        data = orjson.loads(row.body)["data"]
        out.append((row.event, data.get("message_id"), data.get("status")))
    return out


def tangle(line: Line, tag: str) -> list[dict[str, Any]]:
    """Duplicates, regressions and out-of-order statuses of two messages, with inbound
    messages (one redelivered) from one new sender in between."""
    x, y = f"wamid.X-{tag}", f"wamid.Y-{tag}"
    return [
        status(line, x, "read", 1_750_000_300),
        status(line, y, "failed", 1_750_000_050, error_code=131026),  # from sent: applies
        status(line, x, "delivered", 1_750_000_200),  # late: ignored
        text(line, "first", f"wamid.IN-1-{tag}", 1_750_000_400),
        status(line, x, "read", 1_750_000_310),  # duplicate: ignored
        status(line, y, "delivered", 1_750_000_250),  # proves the failure wrong
        text(line, "first", f"wamid.IN-1-{tag}", 1_750_000_400),  # redelivered
        text(line, "second", f"wamid.IN-2-{tag}", 1_750_000_500),
        status(line, y, "failed", 1_750_000_260),  # failed after delivered: ignored
        status(line, y, "read", 1_750_000_270),
        status(line, y, "read", 1_750_000_270),  # duplicate
    ]


async def test_a_batch_ends_as_one_body_at_a_time_would(meta: Meta, app: FastAPI) -> None:
    one_by_one, batched = await meta.line(), await meta.line()
    for line, tag in ((one_by_one, "A"), (batched, "B")):
        await meta.outbound(line, f"wamid.X-{tag}")
        await meta.outbound(line, f"wamid.Y-{tag}", phone="+14155550101")
        await subscribe(meta, line)

    for payload in tangle(one_by_one, "A"):
        await meta.deliver(payload, one_by_one.app_secret)
    single = Worker(
        app.state.sessionmaker, job_handlers(app.state.providers), process_inbox, batch_size=1
    )
    assert await single.drain() == 11
    for payload in tangle(batched, "B"):
        await meta.deliver(payload, batched.app_secret)
    assert await app.state.worker.run_once() == 11  # one batch

    for line, tag in ((one_by_one, "A"), (batched, "B")):
        x, y, in_1, in_2 = (f"wamid.{w}-{tag}" for w in ("X", "Y", "IN-1", "IN-2"))
        assert await events(meta, line.workspace_id) == [
            ("message.read", x, "read"),
            ("message.failed", y, "failed"),
            ("created", None, None),  # the new sender's contact
            ("message.received", in_1, None),
            ("message.delivered", y, "delivered"),
            ("message.received", in_2, None),
            ("message.read", y, "read"),
        ]
        sent_x, sent_y = await meta.message(x), await meta.message(y)
        read = at(1_750_000_300)
        assert (sent_x.status, sent_x.read_at, sent_x.delivered_at) == ("read", read, read)
        assert sent_y.status == "read"
        assert (sent_y.failed_at, sent_y.delivered_at, sent_y.read_at) == (
            at(1_750_000_050),
            at(1_750_000_250),
            at(1_750_000_270),
        )
        assert sent_y.error_code == 131026
        assert sent_y.error_message is not None and sent_y.error_message.startswith("131026")
        inbound = [m for m in await meta.messages(line.workspace_id) if m.direction == "inbound"]
        assert [m.text for m in inbound] == ["first", "second"]
        (contact,) = [c for c in await meta.contacts(line.workspace_id) if c.type == "guest"]
        assert contact.firstname == "Sheena Nelson"
        chat = await meta.chat(contact.id)
        assert chat.last_inbound_at == at(1_750_000_500)
        assert {m.chat_id for m in inbound} == {chat.id}
    assert await meta.jobs() == []
    deliveries = await meta.count(WebhookDelivery)
    assert deliveries == await meta.count(WebhookEvent)  # one endpoint each


async def test_a_poison_row_amid_statuses_leaves_the_others_applied_once(
    meta: Meta, app: FastAPI
) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.P")
    await subscribe(meta, line)
    await meta.deliver(status(line, "wamid.P", "delivered", 1_750_000_100), line.app_secret)
    await meta.deliver(text(line, "hello", "wamid.IN-P", 1_750_000_150), line.app_secret)
    await meta.deliver(poison(line), line.app_secret)
    await meta.deliver(status(line, "wamid.P", "read", 1_750_000_200), line.app_secret)

    assert await app.state.worker.run_once() == 4  # the batch failed, then one by one
    first, second, bad, last = await meta.inbox()
    assert all(e.processed_at is not None and e.error is None for e in (first, second, last))
    assert (bad.processed_at, bad.attempts) == (None, 1)
    assert bad.error is not None and "TypeError" in bad.error
    assert (await meta.message("wamid.P")).status == "read"
    found = [(e, w) for e, w, _ in await events(meta, line.workspace_id) if e != "created"]
    assert found == [
        ("message.delivered", "wamid.P"),
        ("message.received", "wamid.IN-P"),
        ("message.read", "wamid.P"),
    ]


async def test_unknown_wamids_in_a_batch_are_retried_inbound_ones_are_not(
    meta: Meta, app: FastAPI
) -> None:
    line, other = await meta.line(), await meta.line()
    await meta.outbound(other, "wamid.OTHERS")
    await meta.deliver(text(line, "hi", "wamid.IN-U", 1_750_000_000), line.app_secret)
    # A status naming the inbound message just stored (ignored: it is not ours to move),
    # one for a message nobody has (yet), one for another workspace's message.
    await meta.deliver(status(line, "wamid.IN-U", "read", 1_750_000_010), line.app_secret)
    await meta.deliver(status(line, "wamid.LATER", "read", 1_750_000_020), line.app_secret)
    await meta.deliver(status(line, "wamid.OTHERS", "read", 1_750_000_030), line.app_secret)
    assert await app.state.worker.run_once() == 4

    jobs = await meta.jobs(UNKNOWN_STATUS_JOB)
    assert sorted(j.payload["status"]["id"] for j in jobs) == ["wamid.LATER", "wamid.OTHERS"]
    assert {j.payload["workspace_id"] for j in jobs} == {line.workspace_id}
    assert (await meta.message("wamid.IN-U")).status == "received"
    assert (await meta.message("wamid.OTHERS")).status == "sent"


async def test_senders_known_before_and_new_in_one_batch(meta: Meta, app: FastAPI) -> None:
    line = await meta.line()
    await meta.outbound(line, "wamid.KNOWN", phone="+" + CUSTOMER)  # contact and chat exist
    for i, sender in enumerate([CUSTOMER, SENDER, CUSTOMER, SENDER]):
        payload = text(line, f"m{i}", f"wamid.S-{i}", 1_750_000_000 + i, sender=sender)
        await meta.deliver(payload, line.app_secret)
    assert await app.state.worker.run_once() == 4

    contacts = await meta.contacts(line.workspace_id)
    assert sorted((c.phone, c.type) for c in contacts) == [
        ("+" + CUSTOMER, "lead"),
        ("+" + SENDER, "guest"),
    ]
    for contact, last in zip(contacts, (2, 3), strict=True):
        chat = await meta.chat(contact.id)
        assert chat.last_inbound_at == at(1_750_000_000 + last)
        mine = [m for m in await meta.messages(line.workspace_id) if m.chat_id == chat.id]
        assert [m.text for m in mine if m.direction == "inbound"] == [f"m{last - 2}", f"m{last}"]


async def test_new_senders_of_a_batch_are_created_once_and_announced_before_their_messages(
    meta: Meta, app: FastAPI
) -> None:
    """Senders not found are created together for the batch; each one's contacts.created
    still comes once, right before its first message.received, as one at a time would."""
    line = await meta.line()
    await subscribe(meta, line)
    senders = [f"1650555{n:04d}" for n in range(1200, 1205)]
    order = senders + senders[::-1]  # two messages each, the second ones in reverse
    for i, sender in enumerate(order):
        payload = text(line, f"m{i}", f"wamid.NEW-{i}", 1_750_000_000 + i, sender=sender)
        await meta.deliver(payload, line.app_secret)
    assert await app.state.worker.run_once() == len(order)

    contacts = await meta.contacts(line.workspace_id)
    assert sorted(c.phone for c in contacts) == sorted("+" + s for s in senders)
    assert {(c.type, c.firstname) for c in contacts} == {("guest", "Sheena Nelson")}
    messages = await meta.messages(line.workspace_id)
    by_wamid = {m.wamid: m for m in messages}
    for contact in contacts:
        chat = await meta.chat(contact.id)
        mine = [m.text for m in messages if m.chat_id == chat.id]
        first = order.index(contact.phone[1:])
        assert mine == [f"m{first}", f"m{len(order) - 1 - first}"]
        assert chat.unread_count == 2
        assert by_wamid[f"wamid.NEW-{first}"].contact_id == contact.id
    written = [(e, w) for e, w, _ in await events(meta, line.workspace_id)]
    expected: list[tuple[str, str | None]] = []
    for i in range(len(senders)):
        expected += [("created", None), ("message.received", f"wamid.NEW-{i}")]
    expected += [("message.received", f"wamid.NEW-{i}") for i in range(len(senders), len(order))]
    assert written == expected
