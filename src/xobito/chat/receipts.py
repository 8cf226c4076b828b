"""Read receipts: an agent opening a conversation that had unread messages tells Meta the
newest customer message was read (Meta marks the earlier ones read with it), when the
workspace's Settings enable it (``workspaces.send_read_receipts``)."""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.service import ConnectionService
from xobito.kit.db import checkpoint
from xobito.models import Message
from xobito.whatsapp.base import ReadReceipts, WhatsAppProvider
from xobito.whatsapp.errors import WhatsAppError

log = structlog.get_logger("xobito.chat")


async def send_read_receipt(
    session: AsyncSession,
    workspace_id: int,
    chat_id: int,
    providers: dict[str, WhatsAppProvider],
) -> str | None:
    """Marks the chat's newest inbound message read at Meta; its wamid, or None when there
    was none or Meta refused (logged: a receipt never fails the page)."""
    stmt = (
        select(Message.wamid, Message.phone_number_id)
        .where(
            Message.workspace_id == workspace_id,
            Message.chat_id == chat_id,
            Message.direction == "inbound",
            Message.wamid.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    newest = (await session.execute(stmt)).first()
    if newest is None or newest.wamid is None:
        return None
    link = await ConnectionService(session).link(workspace_id, newest.phone_number_id)
    provider = providers.get(link.provider) if link is not None else None
    if link is None or not isinstance(provider, ReadReceipts):
        return None
    await checkpoint(session)  # no connection (on SQLite: the only one) held while Meta answers
    try:
        await provider.mark_read(link.info, newest.wamid)
    except WhatsAppError as exc:
        log.warning("read_receipt_failed", workspace_id=workspace_id, chat_id=chat_id,
                    code=exc.code, error=exc.message)  # fmt: skip
        return None
    return str(newest.wamid)
