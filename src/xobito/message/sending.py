"""The part every send shares: call the provider, store the outcome, schedule simulations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.pacing import Pacer, priority_send
from xobito.connection.service import Link
from xobito.idempotency.service import Reservation
from xobito.jobs.repository import JobRepository
from xobito.kit.db import checkpoint
from xobito.kit.metrics import SENDS
from xobito.kit.time import utcnow
from xobito.live.publish import publish
from xobito.message.repository import MessageRepository
from xobito.message.schemas import send_record
from xobito.message.send_repository import (
    OutboundMessage,
    OutboxEntry,
    QueuedJob,
    Recipient,
    SendRepository,
    StoredAnswer,
)
from xobito.webhook.events import emit_message, message_event, new_event_id
from xobito.webhook.repository import EndpointRepository
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.errors import WhatsAppError

SANDBOX_STATUS_JOB = "sandbox.status"
SENT, FAILED = SENDS.labels("sent"), SENDS.labels("failed")
# A ready body, or a coroutine building it after uploading media to Meta (inside the send, so
# an upload Meta refuses is a failed send like any other, and no connection is held meanwhile).
Payload = dict[str, Any] | Callable[[], Awaitable[dict[str, Any]]]
# Creates a send's new contact and its chat, once Meta has answered (``MessageService.creator``).
Creator = Callable[[], Awaitable[Recipient]]


@dataclass
class SendOutcome:
    message: OutboundMessage
    record: dict[str, Any]
    error: WhatsAppError | None
    # The answer (status, body) already stored for the request's Idempotency-Key, in the
    # send's own write; None when the request boundary stores it (or there is no key).
    stored_reply: tuple[int, bytes] | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """An idempotent request's reservation and how its answer to an outcome reads, so the
    hot write can store the answer with the message (docs/api/authentication.md: a replay exists
    exactly when
    the send was stored)."""

    reservation: Reservation
    render: Callable[[SendOutcome], tuple[int, bytes]]


class Sender:
    def __init__(
        self,
        session: AsyncSession,
        workspace_id: int,
        sandbox_delay: float,
        *,
        reply: Reply | None = None,
        token_id: int | None = None,
        user_id: int | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """``reply``: the request carries an Idempotency-Key (see ``Reply``); ``token_id`` /
        ``user_id``: who asks (kept on the message for its timeline); ``pacer``: the app's,
        whose campaigns make room for this send."""
        self.pacer = pacer
        self.token_id = token_id
        self.user_id = user_id
        self.session = session
        self.workspace_id = workspace_id
        self.messages = MessageRepository(session, workspace_id)
        self.sends = SendRepository(session, workspace_id)
        self.jobs = JobRepository(session)
        self.sandbox_delay = sandbox_delay
        self.reply = reply

    async def deliver(
        self,
        provider: WhatsAppProvider,
        link: Link,
        recipient: Recipient,
        payload: Payload,
        kind: str,
        text: str | None,
        *,
        create: Creator | None = None,
    ) -> SendOutcome:
        """Call Meta, then store the outcome. ``create``: the recipient is a new contact,
        created only now, in the transaction that stores the message: a send that dies on
        the way (a crash while Meta answers) leaves no contact and no ``contacts.created``
        behind, and a retry creates them with its own message."""
        await checkpoint(self.session)  # hold no connection while Meta answers
        error: WhatsAppError | None = None
        body: dict[str, Any] | None = None
        try:
            body = payload if isinstance(payload, dict) else await payload()
            result = await provider.send_message(link.info, body)
        except WhatsAppError as exc:
            error = exc
        else:
            priority_send(self.pacer, link.info.phone_number_id)  # campaigns make room
        if create is not None:
            recipient = await create()
        assert recipient.chat_id is not None and recipient.contact_id is not None
        now = utcnow()
        message = OutboundMessage(
            workspace_id=self.workspace_id,
            chat_id=recipient.chat_id,
            contact_id=recipient.contact_id,
            type=kind,
            phone=recipient.phone,
            phone_number_id=link.info.phone_number_id,
            text=text,
            payload=body,
            token_id=self.token_id,
            user_id=self.user_id,
        )
        if error is None:
            message.wamid = result.wamid
            message.response = result.raw
            message.status = "sent"
            message.sent_at = now
            message.graph_status = 200
            SENT.inc()
        else:
            message.status = "failed"
            message.failed_at = now
            message.error_code = error.code
            message.error_message = error.describe()
            message.response = error.raw or None
            message.graph_status = error.http_status
            FAILED.inc()
        simulate = error is None and getattr(provider, "simulates_statuses", False)
        jobs = self._simulations(message, link, now) if simulate else []
        record = send_record(
            message,
            contact_created=recipient.created,
            whatsapp_response=result.raw if error is None else None,
        )
        outcome = SendOutcome(message, record, error)
        if self.sends.on_driver:
            await self._store_hot(outcome, now, jobs, joined=create is not None)
        else:
            await self._store(message, now, jobs)
        return outcome

    async def _store_hot(
        self, outcome: SendOutcome, now: datetime, jobs: list[QueuedJob], *, joined: bool
    ) -> None:
        """PostgreSQL: everything ``_store`` writes, plus the idempotent answer, in one
        statement. ``joined``: the session's transaction holds the new contact, and the
        statement joins it; both are committed here, at once."""
        message = outcome.message
        name, body = message_event(message)
        targets = await EndpointRepository(self.session, self.workspace_id).subscribed(name)
        event = None
        if targets:
            event = OutboxEntry(new_event_id(), name, orjson.dumps(body), targets)
        answer = None
        if self.reply is not None:
            outcome.stored_reply = self.reply.render(outcome)
            reservation = self.reply.reservation
            answer = StoredAnswer(reservation.id, reservation.owner, *outcome.stored_reply)
        # A cache load above may have begun a (read) transaction: end it, so the write
        # commits on its own and the answer it stores is final (the router relies on it).
        # With a new contact the write joins its transaction, committed right after.
        if not joined:
            await checkpoint(self.session)
        await self.sends.record(message, now, event, jobs, answer)
        if joined:
            await checkpoint(self.session)

    async def _store(self, message: OutboundMessage, now: datetime, jobs: list[QueuedJob]) -> None:
        """The message, its chat's activity, its outbox event and any simulation jobs, in the
        session's transaction (which the request boundary commits)."""
        model = await self.messages.add(message.as_model())
        await emit_message(self.session, model)
        await self.sends.touch_chat(message.chat_id, now)
        publish(self.session, self.workspace_id, "message", chat_id=model.chat_id, message_id=model)
        for job in jobs:
            delay = (job.run_at - now).total_seconds()
            self.jobs.enqueue(job.kind, job.payload, delay=delay)

    def _simulations(self, message: OutboundMessage, link: Link, now: datetime) -> list[QueuedJob]:
        """Sandbox: sent → delivered → read, fed through the inbox like Meta's webhooks."""
        recipient = message.phone.lstrip("+")
        return [
            QueuedJob(
                SANDBOX_STATUS_JOB,
                {
                    "phone_number_id": link.info.phone_number_id,
                    "wamid": message.wamid,
                    "status": status,
                    "recipient_id": recipient,
                },
                now + timedelta(seconds=self.sandbox_delay * step),
            )
            for step, status in enumerate(("sent", "delivered", "read"))
        ]
