"""All SQL of the campaign engine (every workspace's campaigns: workers are not tenants).

Claims take ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never claim one
recipient; SQLite has one writer at a time. A recipient moves ``claimed`` → ``sending`` only
while its worker still holds it (a pause or cancel in between takes it back first).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.outcomes import UNKNOWN_OUTCOME
from xobito.models import Campaign, CampaignRecipient, CampaignWorker, Contact


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    campaign_id: int
    workspace_id: int
    contact_id: int | None
    chat_id: int | None
    phone: str
    values: dict[str, Any] | None
    attempts: int
    pair_attempts: int


class EngineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- workers ---------------------------------------------------------------------------

    async def register(self, name: str, now: datetime) -> int:
        worker = CampaignWorker(name=name[:255], started_at=now, heartbeat_at=now)
        self.session.add(worker)
        await self.session.flush()
        return worker.id

    async def heartbeat(self, worker_id: int, now: datetime) -> None:
        await self.session.execute(
            update(CampaignWorker).where(CampaignWorker.id == worker_id).values(heartbeat_at=now)
        )

    async def leave(self, worker_id: int) -> None:
        await self.session.execute(delete(CampaignWorker).where(CampaignWorker.id == worker_id))

    async def live_workers(self, cutoff: datetime) -> set[int]:
        stmt = select(CampaignWorker.id).where(CampaignWorker.heartbeat_at >= cutoff)
        return set((await self.session.execute(stmt)).scalars().all())

    async def forget_dead(self, cutoff: datetime) -> None:
        await self.session.execute(
            delete(CampaignWorker).where(CampaignWorker.heartbeat_at < cutoff)
        )

    # ---- campaigns -------------------------------------------------------------------------

    async def due_to_start(self, now: datetime, limit: int = 5) -> Sequence[Campaign]:
        stmt = (
            select(Campaign)
            .where(Campaign.state == "scheduled", Campaign.scheduled_at <= now)
            .order_by(Campaign.scheduled_at, Campaign.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def active(self) -> Sequence[Campaign]:
        """Running campaigns, and paused ones (whose stray claims are swept)."""
        stmt = select(Campaign).where(Campaign.state.in_(("running", "paused")))
        return (await self.session.execute(stmt)).scalars().all()

    async def active_running(self) -> bool:
        stmt = select(exists().where(Campaign.state == "running"))
        return bool(await self.session.scalar(stmt))

    async def state(self, campaign_id: int) -> tuple[str, int] | None:
        row = (
            await self.session.execute(
                select(Campaign.state, Campaign.rate_per_second).where(Campaign.id == campaign_id)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def lock_running(self, campaign_id: int) -> Campaign | None:
        stmt = (
            select(Campaign)
            .where(Campaign.id == campaign_id, Campaign.state == "running")
            .with_for_update(skip_locked=True)
        )
        found: Campaign | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def waiting(self, campaign_id: int) -> bool:
        """Whether any recipient is still to be sent (or being sent)."""
        stmt = select(
            exists().where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state.in_(("pending", "claimed", "sending")),
            )
        )
        return bool(await self.session.scalar(stmt))

    async def next_due(self, campaign_id: int) -> datetime | None:
        stmt = select(CampaignRecipient.next_attempt_at).where(
            CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.state == "pending"
        ).order_by(CampaignRecipient.next_attempt_at).limit(1)
        return await self.session.scalar(stmt)

    # ---- recipients ------------------------------------------------------------------------

    async def sweep(self, campaign_id: int, live: Collection[int], now: datetime) -> None:
        """Recipients of workers that stopped: claimed ones go back to the queue (never
        sent); ones whose Graph call was under way are the ambiguous case (``outcomes``)."""
        held = CampaignRecipient.worker_id.is_(None) | CampaignRecipient.worker_id.not_in(
            list(live) or [0]
        )
        base = (CampaignRecipient.campaign_id == campaign_id, held)
        await self.session.execute(
            update(CampaignRecipient)
            .where(*base, CampaignRecipient.state == "claimed")
            .values(state="pending", worker_id=None, updated_at=now)
        )
        await self.session.execute(
            update(CampaignRecipient)
            .where(*base, CampaignRecipient.state == "sending")
            .values(
                state="failed",
                worker_id=None,
                retryable=False,
                error_code=None,
                error_message=UNKNOWN_OUTCOME,
                failed_at=now,
                updated_at=now,
            )
        )

    async def claim(
        self, campaign_id: int, worker_id: int, limit: int, now: datetime
    ) -> list[Claimed]:
        due = (
            select(CampaignRecipient.id)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state == "pending",
                CampaignRecipient.next_attempt_at <= now,
            )
            .order_by(CampaignRecipient.next_attempt_at, CampaignRecipient.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await self.session.execute(due)).scalars().all())
        if not ids:
            return []
        stmt = (
            update(CampaignRecipient)
            .where(CampaignRecipient.id.in_(ids), CampaignRecipient.state == "pending")
            .values(state="claimed", worker_id=worker_id, updated_at=now)
            .returning(
                CampaignRecipient.id,
                CampaignRecipient.campaign_id,
                CampaignRecipient.workspace_id,
                CampaignRecipient.contact_id,
                CampaignRecipient.chat_id,
                CampaignRecipient.phone,
                CampaignRecipient.values,
                CampaignRecipient.attempts,
                CampaignRecipient.pair_attempts,
            )
        )
        rows = [Claimed(*row) for row in await self.session.execute(stmt)]
        return sorted(rows, key=lambda r: r.id)

    async def opted_out(self, contact_ids: Collection[int]) -> set[int]:
        if not contact_ids:
            return set()
        stmt = select(Contact.id).where(
            Contact.id.in_(list(contact_ids)), Contact.is_opted_out.is_(True)
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def exclude(self, ids: Collection[int], reason: str, now: datetime) -> None:
        if ids:
            await self.session.execute(
                update(CampaignRecipient)
                .where(CampaignRecipient.id.in_(list(ids)))
                .values(state="excluded", error_message=reason, worker_id=None, updated_at=now)
            )

    async def mark_sending(self, ids: Sequence[int], worker_id: int, now: datetime) -> set[int]:
        """The ones still held by this worker, now ``sending``."""
        stmt = (
            update(CampaignRecipient)
            .where(
                CampaignRecipient.id.in_(list(ids)),
                CampaignRecipient.state == "claimed",
                CampaignRecipient.worker_id == worker_id,
            )
            .values(state="sending", updated_at=now)
            .returning(CampaignRecipient.id)
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def release(self, ids: Sequence[int], worker_id: int, now: datetime) -> None:
        if ids:
            await self.session.execute(
                update(CampaignRecipient)
                .where(
                    CampaignRecipient.id.in_(list(ids)),
                    CampaignRecipient.state == "claimed",
                    CampaignRecipient.worker_id == worker_id,
                )
                .values(state="pending", worker_id=None, updated_at=now)
            )
