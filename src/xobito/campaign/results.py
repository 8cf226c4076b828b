"""Campaign results from Meta's webhooks: delivery statuses move a recipient forward only
(``sent < delivered < read``; ``failed`` only from ``sent``, as a message's status moves; see
docs/api/messages.md), and an inbound message after a send marks the contact's latest
campaign recipient ``replied``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.time import utcnow
from xobito.models import CampaignRecipient

# The states a status may move a recipient from.
BEFORE = {
    "delivered": ("sent",),
    "read": ("sent", "delivered"),
    "failed": ("sent",),
}
AT = {"delivered": "delivered_at", "read": "read_at", "failed": "failed_at"}


async def follow_statuses(
    session: AsyncSession, moved: Iterable[tuple[int, str, int | None, str | None]]
) -> None:
    """``(message id, new status, error code, error text)`` of messages that moved."""
    groups: dict[str, list[tuple[int, int | None, str | None]]] = {}
    for message_id, status, code, text in moved:
        if status in BEFORE:
            groups.setdefault(status, []).append((message_id, code, text))
    now = utcnow()
    for status, items in groups.items():
        if status == "failed":
            for message_id, code, text in items:
                await session.execute(
                    update(CampaignRecipient)
                    .where(
                        CampaignRecipient.message_id == message_id,
                        CampaignRecipient.state.in_(BEFORE[status]),
                    )
                    .values(
                        state="failed",
                        failed_at=now,
                        error_code=code,
                        error_message=text,
                        retryable=False,
                        updated_at=now,
                    )
                )
            continue
        values: dict[str, object] = {"state": status, AT[status]: now, "updated_at": now}
        if status == "read":  # keep a delivery time already known
            values["delivered_at"] = func.coalesce(CampaignRecipient.delivered_at, now)
        stmt = (
            update(CampaignRecipient)
            .where(
                CampaignRecipient.message_id.in_([i for i, _, _ in items]),
                CampaignRecipient.state.in_(BEFORE[status]),
            )
            .values(**values)
        )
        await session.execute(stmt)


async def sent_to(session: AsyncSession, workspace_id: int, contact_ids: Iterable[int]) -> set[int]:
    """Which of these contacts some campaign has sent to (only their messages can be
    replies), in one query."""
    ids = sorted(set(contact_ids))
    if not ids:
        return set()
    stmt = (
        select(CampaignRecipient.contact_id)
        .where(
            CampaignRecipient.workspace_id == workspace_id,
            CampaignRecipient.contact_id.in_(ids),
            CampaignRecipient.sent_at.is_not(None),
        )
        .distinct()
    )
    return {int(c) for c in (await session.execute(stmt)).scalars().all() if c is not None}


async def replied(
    session: AsyncSession, workspace_id: int, contact_id: int, received_at: datetime
) -> None:
    """The contact answered: their most recent campaign message sent before it (Meta's
    timestamps are whole seconds: a reply within the second of the send counts)."""
    latest = (
        select(CampaignRecipient.id)
        .where(
            CampaignRecipient.workspace_id == workspace_id,
            CampaignRecipient.contact_id == contact_id,
            CampaignRecipient.sent_at.is_not(None),
            CampaignRecipient.sent_at < received_at + timedelta(seconds=1),
        )
        .order_by(CampaignRecipient.sent_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.id == latest, CampaignRecipient.replied_at.is_(None))
        .values(replied_at=received_at)
    )
