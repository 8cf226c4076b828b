"""What the inbound webhook processing tells campaigns (``inbound.service``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign import optout, results
from xobito.campaign.results import follow_statuses
from xobito.models import Contact, Message, OptOutSetting

__all__ = ["follow_statuses", "on_inbound"]


async def on_inbound(
    session: AsyncSession,
    contact: Contact,
    message: Message,
    *,
    campaigned: bool = True,
    optout_settings: dict[int, OptOutSetting | None] | None = None,
) -> None:
    """A customer's message: a reply to a campaign, and perhaps a stop or start keyword.
    ``campaigned``: whether a campaign may have sent to the contact (``results.sent_to``);
    ``optout_settings``: the caller's cache of ``optout.settings_of``."""
    if message.received_at is not None and campaigned:
        await results.replied(session, contact.workspace_id, contact.id, message.received_at)
    await optout.on_inbound(session, contact, message, optout_settings)
