"""Writing the outcomes of campaign sends, many at a time (one transaction per group).

A group holds every outcome that arrived while the previous one was written
(``kit.group_commit``). For each recipient it stores what Meta answered; a final outcome
(sent, failed) becomes a message of the contact's conversation, with its outbound webhook and
live event, exactly as any other send; a paused campaign gets its reason and
``campaign.paused``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.campaign import events
from xobito.campaign.outcomes import Verdict
from xobito.campaign.repository import CampaignRepository
from xobito.campaign.schemas import campaign_record
from xobito.jobs.repository import JobRepository
from xobito.kit.metrics import SENDS
from xobito.kit.time import utcnow
from xobito.live.publish import publish
from xobito.message.sending import SANDBOX_STATUS_JOB
from xobito.models import Campaign, CampaignRecipient, Chat, Message
from xobito.webhook.events import emit_many, message_body

SENT, FAILED = SENDS.labels("sent"), SENDS.labels("failed")


@dataclass(slots=True)
class Outcome:
    recipient_id: int
    campaign_id: int
    workspace_id: int
    contact_id: int | None
    chat_id: int | None
    phone: str
    phone_number_id: str
    verdict: Verdict
    attempts: int  # before this call
    pair_attempts: int
    payload: dict[str, Any] | None = None
    text: str | None = None
    wamid: str | None = None
    response: dict[str, Any] | None = None
    graph_status: int | None = None
    sandbox_delay: float | None = None  # the sandbox simulates statuses this far apart


class _Facts:
    """What ``message.*`` events tell of a stored message."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


async def write_outcomes(
    sessionmaker: async_sessionmaker[AsyncSession], outcomes: list[Outcome]
) -> list[None]:
    now = utcnow()
    async with sessionmaker() as session:
        messages: list[dict[str, Any]] = []
        about: list[Outcome] = []
        updates: list[dict[str, Any]] = []
        pauses: dict[int, str] = {}
        for o in outcomes:
            kind = o.verdict.kind
            row: dict[str, Any] = {
                "id": o.recipient_id,
                "worker_id": None,
                "updated_at": now,
                "error_code": o.verdict.code,
                "error_message": o.verdict.text,
            }
            if kind == "sent":
                row.update(state="sent", wamid=o.wamid, sent_at=now, attempts=o.attempts + 1)
                row.update(error_code=None, error_message=None)
            elif kind in ("failed", "unknown"):
                row.update(state="failed", failed_at=now, retryable=o.verdict.retryable,
                           attempts=o.attempts + 1)
            else:  # back in the queue
                delay = o.verdict.delay
                row.update(state="pending", next_attempt_at=now + timedelta(seconds=delay))
                if kind == "pair":
                    row["pair_attempts"] = o.pair_attempts + 1
                if kind != "pause":
                    row["attempts"] = o.attempts + 1
                else:
                    pauses.setdefault(o.campaign_id, o.verdict.text or "Paused by Meta")
            updates.append(row)
            final = kind in ("sent", "failed", "unknown")
            if final and o.chat_id is not None and o.contact_id is not None:
                messages.append(_message(o, now))
                about.append(o)
        ids: list[int] = []
        if messages:
            stmt = insert(Message).returning(Message.id, sort_by_parameter_order=True)
            ids = list((await session.execute(stmt, messages)).scalars().all())
        by_recipient = {o.recipient_id: mid for o, mid in zip(about, ids, strict=True)}
        for row in updates:
            if row["id"] in by_recipient:
                row["message_id"] = by_recipient[row["id"]]
        for keys in {tuple(sorted(r)) for r in updates}:
            group = [r for r in updates if tuple(sorted(r)) == keys]
            await session.execute(update(CampaignRecipient), group)
        await _conversations(session, about, ids, messages, now)
        for campaign_id, reason in pauses.items():
            await _pause(session, campaign_id, reason)
        await session.commit()
    for o in outcomes:
        if o.verdict.kind == "sent":
            SENT.inc()
        elif o.verdict.kind in ("failed", "unknown"):
            FAILED.inc()
    return [None] * len(outcomes)


def _message(o: Outcome, now: datetime) -> dict[str, Any]:
    sent = o.verdict.kind == "sent"
    return {
        "workspace_id": o.workspace_id,
        "chat_id": o.chat_id,
        "contact_id": o.contact_id,
        "wamid": o.wamid,
        "direction": "outbound",
        "type": "template",
        "phone": o.phone[:20],
        "phone_number_id": o.phone_number_id,
        "text": o.text,
        "payload": o.payload,
        "response": o.response,
        "status": "sent" if sent else "failed",
        "error_code": None if sent else o.verdict.code,
        "error_message": None if sent else o.verdict.text,
        "sent_at": now if sent else None,
        "failed_at": None if sent else now,
        "graph_status": o.graph_status,
        "created_at": now,
        "updated_at": now,
    }


async def _conversations(
    session: AsyncSession,
    about: list[Outcome],
    ids: list[int],
    messages: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Chats' activity, live events, ``message.sent|failed`` webhooks, sandbox statuses."""
    if not about:
        return
    chats = sorted({o.chat_id for o in about if o.chat_id is not None})
    await session.execute(
        update(Chat).where(Chat.id.in_(chats)).values(last_message_at=now, updated_at=now)
    )
    webhook_events = []
    jobs = JobRepository(session)
    for o, message_id, row in zip(about, ids, messages, strict=True):
        publish(session, o.workspace_id, "message", chat_id=o.chat_id, message_id=message_id)
        facts = _Facts(row)
        webhook_events.append(
            (o.workspace_id, f"message.{row['status']}", lambda f=facts: message_body(f))
        )
        if o.sandbox_delay is not None and o.wamid is not None:
            for step, status in enumerate(("sent", "delivered", "read")):
                jobs.enqueue(
                    SANDBOX_STATUS_JOB,
                    {
                        "phone_number_id": o.phone_number_id,
                        "wamid": o.wamid,
                        "status": status,
                        "recipient_id": o.phone.lstrip("+"),
                    },
                    delay=o.sandbox_delay * step,
                )
    await emit_many(session, webhook_events, ids)


async def _pause(session: AsyncSession, campaign_id: int, reason: str) -> None:
    """Meta said sending more would hurt the number: the campaign stops for a person."""
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.state != "running":
        return
    campaign.state = "paused"
    campaign.reason = f"Paused by Meta's answer {reason}"
    await session.flush()
    repo = CampaignRepository(session, campaign.workspace_id)
    record = campaign_record(campaign, (await repo.counts([campaign]))[campaign.id])
    await events.emit_state(session, campaign, "campaign.paused", record)
