"""Processing one stored webhook body: messages, statuses, template status updates."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.repository import ConnectionRepository
from xobito.inbound.parsing import Inbound, parse_message, profile_names, timestamp
from xobito.jobs.repository import JobRepository
from xobito.kit.phone import to_e164
from xobito.message.recipient import RecipientResolver
from xobito.message.repository import ChatRepository, MessageRepository
from xobito.message.statemachine import applies
from xobito.models import Message, Workspace
from xobito.template.repository import set_status_by_meta_id
from xobito.template.schemas import STATUSES as TEMPLATE_STATUSES
from xobito.webhook.events import emit_message, emit_received
from xobito.workspace.schemas import WorkspaceInfo

log = structlog.get_logger("xobito.inbound")
UNKNOWN_STATUS_JOB = "inbound.status_retry"
TIMESTAMP_FIELD = {
    "sent": "sent_at",
    "delivered": "delivered_at",
    "read": "read_at",
    "failed": "failed_at",
}


class InboundProcessor:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.connections = ConnectionRepository(session)

    async def process(self, body: bytes) -> None:
        payload = orjson.loads(body)
        if not isinstance(payload, dict):
            return
        for entry in payload.get("entry") or []:
            if not isinstance(entry, dict):
                continue
            for change in entry.get("changes") or []:
                if isinstance(change, dict) and isinstance(change.get("value"), dict):
                    await self._change(
                        str(entry.get("id", "")), change.get("field"), change["value"]
                    )

    async def _change(self, waba_id: str, field: Any, value: dict[str, Any]) -> None:
        if field == "message_template_status_update":
            await self._template_status(waba_id, value)
            return
        if field != "messages":
            return
        number = str((value.get("metadata") or {}).get("phone_number_id", ""))
        workspace_id = await self.connections.owner_of(number) if number else None
        if workspace_id is None:
            log.info("inbound_unknown_number", phone_number_id=number)
            return
        names = profile_names(value)
        for raw in value.get("messages") or []:
            parsed = parse_message(raw) if isinstance(raw, dict) else None
            if parsed is not None:
                await self.message(workspace_id, number, parsed, names.get(parsed.wa_id))
        for status in value.get("statuses") or []:
            if isinstance(status, dict):
                await self.status(workspace_id, status)

    async def _workspace(self, workspace_id: int) -> WorkspaceInfo:
        ws = await self.session.get(Workspace, workspace_id)
        assert ws is not None
        return WorkspaceInfo.of(ws)

    async def message(
        self, workspace_id: int, number: str, m: Inbound, profile_name: str | None
    ) -> Message | None:
        messages = MessageRepository(self.session, workspace_id)
        if await messages.wamid_exists(m.wamid):
            return None  # Meta redelivered it
        phone = to_e164(m.wa_id) or "+" + "".join(c for c in m.wa_id if c.isdigit())[:19]
        resolver = RecipientResolver(self.session, await self._workspace(workspace_id))
        contact = await resolver.for_inbound(phone, profile_name)
        chats = ChatRepository(self.session, workspace_id)
        chat = await chats.ensure(contact.id)
        if chat.last_inbound_at is None or chat.last_inbound_at < m.received_at:
            chat.last_inbound_at = m.received_at
        if chat.last_message_at is None or chat.last_message_at < m.received_at:
            chat.last_message_at = m.received_at
        message = Message(
            chat_id=chat.id,
            contact_id=contact.id,
            wamid=m.wamid,
            direction="inbound",
            type=m.type,
            phone=contact.phone,
            phone_number_id=number,
            text=m.text,
            payload={"button_reply": m.button_reply, "media": m.media},
            status="received",
            context_message_id=m.context_message_id,
            received_at=m.received_at,
        )
        message = await messages.add(message)
        await emit_received(self.session, message)
        return message

    async def status(
        self, workspace_id: int, status: dict[str, Any], *, retry_unknown: bool = True
    ) -> bool:
        """Apply one status (spec §8.7). Returns whether the message moved."""
        wamid, new = status.get("id"), status.get("status")
        if not isinstance(wamid, str) or not isinstance(new, str):
            return False
        message = await MessageRepository(self.session, workspace_id).by_wamid(wamid, lock=True)
        if message is None:
            if retry_unknown:
                # The send that produced this wamid may not have committed yet: look again later.
                JobRepository(self.session).enqueue(
                    UNKNOWN_STATUS_JOB,
                    {"workspace_id": workspace_id, "status": status},
                    delay=2,
                    max_attempts=5,
                )
            return False
        if not applies(message.status, new):
            return False
        when = timestamp(status.get("timestamp"))
        message.status = new
        setattr(message, TIMESTAMP_FIELD[new], when)
        if new == "read" and message.delivered_at is None:
            message.delivered_at = when
        if new == "failed":
            errors = status.get("errors") or [{}]
            first = (
                errors[0]
                if isinstance(errors, list) and errors and isinstance(errors[0], dict)
                else {}
            )
            message.error_code = first.get("code") if isinstance(first.get("code"), int) else None
            message.error_message = f"{first.get('code')}: {first.get('title') or 'failed'}"
        await emit_message(self.session, message)
        return True

    async def known(self, workspace_id: int, status: dict[str, Any]) -> bool:
        wamid = status.get("id")
        return (
            isinstance(wamid, str)
            and await MessageRepository(self.session, workspace_id).by_wamid(wamid) is not None
        )

    async def _template_status(self, waba_id: str, value: dict[str, Any]) -> None:
        event = str(value.get("event", "")).upper()
        template_id = str(value.get("message_template_id", ""))
        if event not in TEMPLATE_STATUSES or not template_id:
            return
        workspaces = [c.workspace_id for c in await self.connections.by_waba(waba_id)]
        await set_status_by_meta_id(self.session, workspaces, template_id, event)
