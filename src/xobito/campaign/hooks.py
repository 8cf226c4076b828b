"""What the inbound webhook processing tells campaigns (``inbound.service``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign import optout, results
from xobito.campaign.results import follow_statuses
from xobito.models import Contact, Message

__all__ = ["follow_statuses", "on_inbound"]


async def on_inbound(
    session: AsyncSession, contact: Contact, message: Message, *, new_contact: bool = False
) -> None:
    """A customer's message: a reply to a campaign, and perhaps a stop or start keyword.
    ``new_contact``: created by this message's batch, so no campaign has sent to it."""
    if message.received_at is not None and not new_contact:
        await results.replied(session, contact.workspace_id, contact.id, message.received_at)
    await optout.on_inbound(session, contact, message)
