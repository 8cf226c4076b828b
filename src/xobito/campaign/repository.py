"""All SQL of campaigns read and written on behalf of one workspace (API, dashboard)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from xobito.kit.repository import ScopedRepository
from xobito.models import Campaign, CampaignRecipient, OptOutSetting, SendingNumber

WAITING = ("pending", "claimed", "sending")
REACHED = ("sent", "delivered", "read")


def fold_counts(rows: Sequence[Any], exclusions: dict[str, int] | None) -> dict[str, int]:
    """``(state, count, replied)`` rows of one campaign → its ``counts``."""
    by_state = {row[0]: int(row[1]) for row in rows}
    replied = sum(int(row[2]) for row in rows)
    duplicates = (exclusions or {}).get("duplicate", 0)
    return {
        "total": sum(by_state.values()) + duplicates,
        "excluded": by_state.get("excluded", 0) + duplicates,
        "sent": sum(by_state.get(s, 0) for s in REACHED),
        "delivered": by_state.get("delivered", 0) + by_state.get("read", 0),
        "read": by_state.get("read", 0),
        "failed": by_state.get("failed", 0),
        "replied": replied,
        "pending": sum(by_state.get(s, 0) for s in WAITING),
        "cancelled": by_state.get("cancelled", 0),
    }


class CampaignRepository(ScopedRepository[Campaign]):
    model = Campaign

    async def get_locked(self, campaign_id: int) -> Campaign | None:
        stmt = self.select().where(Campaign.id == campaign_id).with_for_update()
        found: Campaign | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def listing(
        self, page: int, per_page: int, state: str | None
    ) -> tuple[list[Campaign], int]:
        stmt = self.select()
        total_stmt = select(func.count()).select_from(Campaign).where(
            Campaign.workspace_id == self.workspace_id
        )
        if state is not None:
            stmt = stmt.where(Campaign.state == state)
            total_stmt = total_stmt.where(Campaign.state == state)
        stmt = stmt.order_by(Campaign.id.desc()).limit(per_page).offset((page - 1) * per_page)
        rows = list((await self.session.execute(stmt)).scalars().all())
        return rows, int(await self.session.scalar(total_stmt) or 0)

    async def counts(self, campaigns: Sequence[Campaign]) -> dict[int, dict[str, int]]:
        """Each campaign's counts, in one grouped query."""
        if not campaigns:
            return {}
        stmt = (
            select(
                CampaignRecipient.campaign_id,
                CampaignRecipient.state,
                func.count(),
                func.count(CampaignRecipient.replied_at),
            )
            .where(CampaignRecipient.campaign_id.in_([c.id for c in campaigns]))
            .group_by(CampaignRecipient.campaign_id, CampaignRecipient.state)
        )
        rows: dict[int, list[Any]] = {c.id: [] for c in campaigns}
        for campaign_id, state, count, replied in await self.session.execute(stmt):
            rows[campaign_id].append((state, count, replied))
        return {c.id: fold_counts(rows[c.id], c.exclusions) for c in campaigns}

    async def recipients(
        self, campaign_id: int, states: Sequence[str], after_id: int, limit: int
    ) -> list[CampaignRecipient]:
        stmt = (
            select(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.id > after_id)
            .order_by(CampaignRecipient.id)
            .limit(limit)
        )
        if states:
            stmt = stmt.where(CampaignRecipient.state.in_(states))
        return list((await self.session.execute(stmt)).scalars().all())

    async def all_recipients(
        self, campaign_id: int, batch: int = 1000
    ) -> AsyncIterator[list[CampaignRecipient]]:
        after = 0
        while True:
            rows = await self.recipients(campaign_id, (), after, batch)
            if not rows:
                return
            yield rows
            after = rows[-1].id

    async def failures(self, campaign_id: int) -> list[tuple[int | None, str | None, int]]:
        """Failed recipients grouped by Meta code: ``(code, one message, count)``."""
        stmt = (
            select(
                CampaignRecipient.error_code,
                func.max(CampaignRecipient.error_message),
                func.count(),
            )
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state == "failed",
            )
            .group_by(CampaignRecipient.error_code)
            .order_by(func.count().desc(), CampaignRecipient.error_code.asc().nulls_last())
        )
        return [(row[0], row[1], int(row[2])) for row in await self.session.execute(stmt)]

    async def set_waiting(
        self, campaign_id: int, from_states: Sequence[str], values: dict[str, Any]
    ) -> int:
        result = await self.session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state.in_(from_states),
            )
            .values(**values)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def retry_failed(self, campaign_id: int, now: datetime) -> int:
        result = await self.session.execute(
            update(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.state == "failed",
                CampaignRecipient.retryable.is_(True),
            )
            .values(
                state="pending",
                next_attempt_at=now,
                attempts=0,
                pair_attempts=0,
                retryable=False,
                error_code=None,
                error_message=None,
                failed_at=None,
                worker_id=None,
                updated_at=now,
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # ---- per-number pacing and opt-out settings --------------------------------------------

    async def number(self, phone_number_id: str) -> SendingNumber | None:
        stmt = select(SendingNumber).where(
            SendingNumber.workspace_id == self.workspace_id,
            SendingNumber.phone_number_id == phone_number_id,
        )
        found: SendingNumber | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def opt_out(self) -> OptOutSetting | None:
        return await self.session.get(OptOutSetting, self.workspace_id)
