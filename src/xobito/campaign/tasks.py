"""Worker jobs of campaigns: the confirmation of an opt-out (or opt-in) by message."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.service import ConnectionService
from xobito.kit.time import utcnow
from xobito.live.publish import publish
from xobito.models import Chat, Contact, Message
from xobito.webhook.events import emit_message
from xobito.whatsapp import payloads
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.errors import WhatsAppError


async def opt_out_reply(
    session: AsyncSession, payload: dict[str, Any], available: dict[str, WhatsAppProvider]
) -> None:
    """Send the confirmation, inside the care window the keyword opened, and store it in the
    conversation. The Graph call runs in the job's transaction: a worker killed right after
    Meta accepted it sends the confirmation again when the job is retried (at least once:
    a confirmation is harmless to repeat, unlike a campaign message). ``available``: the
    worker's own providers (the app's, retrying)."""
    workspace_id = int(payload["workspace_id"])
    contact = await session.get(Contact, int(payload["contact_id"]))
    if contact is None or contact.workspace_id != workspace_id:
        return
    link = await ConnectionService(session).link(workspace_id, payload.get("phone_number_id"))
    if link is None or link.provider not in available:
        return
    body = payloads.text_message(contact.phone, str(payload["text"]))
    now = utcnow()
    message = Message(
        workspace_id=workspace_id,
        chat_id=payload.get("chat_id"),
        contact_id=contact.id,
        direction="outbound",
        type="text",
        phone=contact.phone,
        phone_number_id=link.info.phone_number_id,
        text=str(payload["text"]),
        payload=body,
    )
    try:
        result = await available[link.provider].send_message(link.info, body)
    except WhatsAppError as error:
        message.status, message.failed_at = "failed", now
        message.error_code, message.error_message = error.code, error.describe()
        message.graph_status = error.http_status
    else:
        message.wamid, message.response = result.wamid, result.raw
        message.status, message.sent_at, message.graph_status = "sent", now, 200
    session.add(message)
    await session.flush()
    if message.chat_id is not None:
        chat = await session.get(Chat, message.chat_id)
        if chat is not None:
            chat.last_message_at = now
        publish(session, workspace_id, "message", chat_id=message.chat_id, message_id=message)
    await emit_message(session, message)
