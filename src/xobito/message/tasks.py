"""Worker jobs of the messaging domain."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.inbound.repository import InboxRepository
from xobito.whatsapp.webhooks import status_payload


async def sandbox_status(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Sandbox: write the status webhook Meta would have sent into the inbox (same path)."""
    body = status_payload(
        waba_id=f"sandbox-{payload['phone_number_id']}",
        phone_number_id=payload["phone_number_id"],
        wamid=payload["wamid"],
        status=payload["status"],
        recipient_id=payload["recipient_id"],
        error_code=payload.get("error_code"),
    )
    await InboxRepository(session).add(orjson.dumps(body))
