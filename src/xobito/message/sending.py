"""The part every send shares: call the provider, store the outcome, schedule simulations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.service import Link
from xobito.jobs.repository import JobRepository
from xobito.kit.db import checkpoint
from xobito.kit.metrics import SENDS
from xobito.kit.time import utcnow
from xobito.message.repository import ChatRepository, MessageRepository
from xobito.message.schemas import send_record
from xobito.models import Contact, Message
from xobito.webhook.events import emit_message
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.errors import WhatsAppError

SANDBOX_STATUS_JOB = "sandbox.status"
# A ready body, or a coroutine building it after uploading media to Meta (inside the send, so
# an upload Meta refuses is a failed send like any other, and no connection is held meanwhile).
Payload = dict[str, Any] | Callable[[], Awaitable[dict[str, Any]]]


def describe(error: WhatsAppError) -> str:
    """``"<Meta code>: <Meta message>"``; just the message when there is no code (network)."""
    return str(error) if error.code is not None else error.message


@dataclass
class SendOutcome:
    message: Message
    record: dict[str, Any]
    error: WhatsAppError | None


class Sender:
    def __init__(
        self,
        session: AsyncSession,
        workspace_id: int,
        sandbox_delay: float,
        chats: ChatRepository | None = None,
    ) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.messages = MessageRepository(session, workspace_id)
        self.chats = chats or ChatRepository(session, workspace_id)
        self.jobs = JobRepository(session)
        self.sandbox_delay = sandbox_delay

    async def deliver(
        self,
        provider: WhatsAppProvider,
        link: Link,
        contact: Contact,
        created: bool,
        payload: Payload,
        kind: str,
        text: str | None,
    ) -> SendOutcome:
        contact_id, phone = contact.id, contact.phone
        chat = await self.chats.ensure(contact_id)
        chat_id = chat.id
        await checkpoint(self.session)  # hold no connection while Meta answers
        error: WhatsAppError | None = None
        body: dict[str, Any] | None = None
        try:
            body = payload if isinstance(payload, dict) else await payload()
            result = await provider.send_message(link.info, body)
        except WhatsAppError as exc:
            error = exc
        now = utcnow()
        message = Message(
            chat_id=chat_id,
            contact_id=contact_id,
            direction="outbound",
            type=kind,
            phone=phone,
            phone_number_id=link.info.phone_number_id,
            text=text,
            payload=body,
        )
        if error is None:
            message.wamid = result.wamid
            message.response = result.raw
            message.status = "sent"
            message.sent_at = now
            SENDS.labels("sent").inc()
        else:
            message.status = "failed"
            message.failed_at = now
            message.error_code = error.code
            message.error_message = describe(error)
            message.response = error.raw or None
            SENDS.labels("failed").inc()
        await self.messages.add(message)
        await emit_message(self.session, message)
        chat.last_message_at = now  # still in the session after the checkpoint
        if error is None and getattr(provider, "simulates_statuses", False):
            self._simulate(message, link)
        record = send_record(
            message,
            contact_created=created,
            whatsapp_response=result.raw if error is None else None,
        )
        return SendOutcome(message, record, error)

    def _simulate(self, message: Message, link: Link) -> None:
        """Sandbox: sent → delivered → read, fed through the inbox like Meta's webhooks."""
        recipient = message.phone.lstrip("+")
        final = ["sent", "delivered", "read"]
        for step, status in enumerate(final):
            self.jobs.enqueue(
                SANDBOX_STATUS_JOB,
                {
                    "phone_number_id": link.info.phone_number_id,
                    "wamid": message.wamid,
                    "status": status,
                    "recipient_id": recipient,
                },
                delay=self.sandbox_delay * step,
            )
