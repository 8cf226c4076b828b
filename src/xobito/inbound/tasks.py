"""Worker jobs of the receiving domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.inbound.scope import Scope
from xobito.inbound.service import InboundProcessor


async def process_inbox(
    session: AsyncSession, rows: Sequence[tuple[bytes, Any]]
) -> list[str | None]:
    """Stored webhook bodies with their ``verified_for``, in order, in the caller's
    transaction; returns each one's notes."""
    bodies = [(body, Scope.from_stored(verified_for)) for body, verified_for in rows]
    return await InboundProcessor(session).process_many(bodies)


async def status_retry(session: AsyncSession, payload: dict[str, Any]) -> None:
    """A status whose message was unknown when it arrived: apply it now, or fail to retry."""
    processor = InboundProcessor(session)
    found = await processor.status(
        int(payload["workspace_id"]), payload["status"], retry_unknown=False
    )
    if not found and not await processor.known(int(payload["workspace_id"]), payload["status"]):
        raise LookupError("message not known yet")
