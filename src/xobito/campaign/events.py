"""Outbound webhooks of campaigns: ``campaign.started``, ``campaign.paused`` and
``campaign.completed``, with the campaign's counts (written in the change's transaction)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.time import utcnow
from xobito.models import Campaign
from xobito.webhook.events import emit

EVENTS = ("campaign.started", "campaign.paused", "campaign.completed")


async def emit_state(
    session: AsyncSession, campaign: Campaign, name: str, record: dict[str, Any]
) -> None:
    body = {
        "event": name,
        "model": "Campaign",
        "data": {
            "id": campaign.id,
            "tenant_id": campaign.workspace_id,
            "name": campaign.name,
            "state": record["state"],
            "reason": record["reason"],
            "counts": record["counts"],
            "exclusions": record["exclusions"],
        },
        "timestamp": utcnow().astimezone(UTC).replace(microsecond=0).isoformat(),
    }
    await emit(session, campaign.workspace_id, name, name, body)
