"""Worker jobs of the messaging domain."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.repository import ConnectionRepository
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import Scope
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
    # For the workspace the simulated send came from: the one owning the number.
    owner = await ConnectionRepository(session).owner_of(payload["phone_number_id"])
    scope = Scope.of({owner} if owner is not None else set())
    await InboxRepository(session).add(orjson.dumps(body), scope)
