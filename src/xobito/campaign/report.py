"""A campaign's report: one CSV row per recipient (the API's ``report.csv`` and the
dashboard's download)."""

from __future__ import annotations

import csv
import io

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.repository import CampaignRepository
from xobito.kit.time import iso

REPORT_COLUMNS = (
    "recipient_id", "contact_id", "phone", "state", "message_id", "error_code",
    "error_message", "sent_at", "delivered_at", "read_at", "failed_at", "replied_at",
)


def _safe(value: str) -> str:
    """No spreadsheet formulas from stored text (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not value[1:2].isdigit() else value


async def report_csv(session: AsyncSession, workspace_id: int, campaign_id: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REPORT_COLUMNS)
    repo = CampaignRepository(session, workspace_id)
    async for batch in repo.all_recipients(campaign_id):
        for r in batch:
            writer.writerow(
                [r.id, r.contact_id or "", _safe(r.phone), r.state, r.wamid or "",
                 r.error_code or "", _safe(r.error_message or ""), iso(r.sent_at) or "",
                 iso(r.delivered_at) or "", iso(r.read_at) or "", iso(r.failed_at) or "",
                 iso(r.replied_at) or ""]
            )
    return out.getvalue().encode()
