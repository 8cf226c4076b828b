"""Periodic clean-up: what the spec keeps for a limited time is removed after it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.account.repository import SessionRepository
from xobito.config import Settings
from xobito.contact.import_repository import purge_abandoned
from xobito.idempotency.repository import IdempotencyRepository
from xobito.inbound.repository import TrafficRepository
from xobito.live.repository import purge_live_events
from xobito.models import InboxEvent, Job
from xobito.webhook.repository import DeliveryRepository

DONE_ROWS_KEPT = timedelta(days=7)
TRAFFIC_KEPT = timedelta(days=30)  # webhook counts per workspace and hour (the doctor's)
LIVE_EVENTS_KEPT = timedelta(days=2)  # a page away longer than this resyncs instead
IMPORT_DRAFTS_KEPT = timedelta(days=1)  # an uploaded CSV never started, and its file


async def purge(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """Webhook logs past retention (30 days), idempotency keys past 24 h, finished jobs and
    processed inbox rows past a week, webhook traffic counts past 30 days, dashboard
    sessions past their expiry, live events past two days, contact imports uploaded but never
    started past a day."""
    counts = {
        "webhook_logs": await DeliveryRepository(session).purge_logs(
            now - timedelta(days=settings.webhook_log_retention_days)
        ),
        "idempotency_keys": await IdempotencyRepository(session).purge_older_than(
            now - timedelta(seconds=settings.idempotency_ttl_seconds)
        ),
    }
    cutoff = now - DONE_ROWS_KEPT
    jobs = await session.execute(delete(Job).where(Job.finished_at < cutoff))
    inbox = await session.execute(delete(InboxEvent).where(InboxEvent.processed_at < cutoff))
    counts["jobs"] = int(getattr(jobs, "rowcount", 0) or 0)
    counts["inbox_events"] = int(getattr(inbox, "rowcount", 0) or 0)
    counts["webhook_traffic"] = await TrafficRepository(session).purge(now - TRAFFIC_KEPT)
    counts["user_sessions"] = await SessionRepository(session).purge_expired(
        now, now - timedelta(minutes=settings.session_idle_minutes)
    )
    counts["live_events"] = await purge_live_events(session, now - LIVE_EVENTS_KEPT)
    counts["contact_import_drafts"] = await purge_abandoned(session, now - IMPORT_DRAFTS_KEPT)
    return counts
