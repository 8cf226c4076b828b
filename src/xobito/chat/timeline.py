"""A message's timeline: everything that happened to it, in order.

Who asked for it (dashboard user, API token) or that the customer sent it; the exact Graph
request and Meta's answer (HTTP status and body); every status webhook Meta sent about it,
as received, and whether it moved the message; every delivery attempt of the workspace's
outbound webhooks about it, with the endpoint's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.chat.reasons import reason
from xobito.chat.repository import PeopleRepository
from xobito.chat.schemas import message_record
from xobito.kit.errors import NotFound
from xobito.kit.time import iso
from xobito.models import (
    Contact,
    Message,
    MessageStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookLog,
)

NOT_FOUND = "Message not found"


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime | None
    kind: str  # created | graph_request | graph_response | received | status | webhook
    summary: str
    detail: dict[str, Any]

    def record(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "kind": self.kind,
            "summary": self.summary,
            "detail": self.detail,
        }


class TimelineRepository:
    """The timeline's reads, all scoped to one workspace."""

    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def message(self, key: str | int) -> Message | None:
        """By wamid, or by our id (a failed send has no wamid)."""
        stmt = select(Message).where(Message.workspace_id == self.workspace_id)
        if isinstance(key, int):
            stmt = stmt.where(Message.id == key)
        else:
            stmt = stmt.where(Message.wamid == key)
        found: Message | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def contact(self, contact_id: int | None) -> Contact | None:
        if contact_id is None:
            return None
        stmt = select(Contact).where(
            Contact.workspace_id == self.workspace_id, Contact.id == contact_id
        )
        found: Contact | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def statuses(self, message_id: int) -> Sequence[MessageStatus]:
        stmt = (
            select(MessageStatus)
            .where(MessageStatus.message_id == message_id)
            .order_by(MessageStatus.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def deliveries(
        self, message_id: int
    ) -> Sequence[tuple[WebhookEvent, WebhookDelivery, WebhookEndpoint, WebhookLog | None]]:
        stmt = (
            select(WebhookEvent, WebhookDelivery, WebhookEndpoint, WebhookLog)
            .join(WebhookDelivery, WebhookDelivery.event_id == WebhookEvent.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .outerjoin(WebhookLog, WebhookLog.delivery_id == WebhookDelivery.id)
            .where(
                WebhookEvent.workspace_id == self.workspace_id,
                WebhookEvent.message_id == message_id,
            )
            .order_by(WebhookEvent.id, WebhookDelivery.id, WebhookLog.id)
        )
        return (await self.session.execute(stmt)).tuples().all()


def message_key(value: str) -> str | int:
    """A path's message id: a wamid, or our own numeric id."""
    return int(value) if value.isdigit() and len(value) < 10 else value


class TimelineService:
    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.repo = TimelineRepository(session, workspace_id)
        self.people = PeopleRepository(session, workspace_id)

    async def of(self, key: str | int) -> tuple[Message, list[Entry], dict[str, Any]]:
        """The message, its entries in order, and its API record."""
        message = await self.repo.message(key)
        if message is None:
            raise NotFound(NOT_FOUND)
        users = await self.people.members([message.user_id] if message.user_id else [])
        tokens = await self.people.tokens([message.token_id] if message.token_id else [])
        contact = await self.repo.contact(message.contact_id)
        name = contact_label(contact, message.phone)
        origin = self._origin(message, users, tokens, name)
        entries: list[Entry] = []
        for status in await self.repo.statuses(message.id):
            entries.append(status_entry(status))
        for event, delivery, endpoint, log in await self.repo.deliveries(message.id):
            entries.append(delivery_entry(event, delivery, endpoint, log))
        entries.sort(key=lambda e: (e.at is None, e.at or message.created_at))
        return message, [*origin, *entries], message_record(message, users, tokens, name)

    async def record(self, key: str | int) -> dict[str, Any]:
        _, entries, record = await self.of(key)
        return {"message": record, "entries": [e.record() for e in entries]}

    def _origin(
        self, m: Message, users: dict[int, Any], tokens: dict[int, str], name: str
    ) -> list[Entry]:
        if m.direction == "inbound":
            webhook = (m.payload or {}).get("webhook")
            return [
                Entry(
                    m.received_at or m.created_at,
                    "received",
                    f"Received from {name} through Meta's webhook",
                    {"webhook": webhook},
                )
            ]
        if m.direction == "note":
            user = users.get(m.user_id or 0)
            by = user.name if user else "a former member"
            return [Entry(m.created_at, "created", f"Internal note by {by} (never sent)", {})]
        if m.user_id is not None:
            user = users.get(m.user_id)
            origin = f"Sent by {user.name if user else 'a former member'} from the dashboard"
            detail: dict[str, Any] = {"user_id": m.user_id}
        elif m.token_id is not None:
            token = tokens.get(m.token_id, "since deleted")
            origin = f"Requested through the API with the token {token!r}"
            detail = {"token_id": m.token_id}
        else:
            origin, detail = "Sent by Xobito", {}
        request = {
            "method": "POST",
            "path": f"/{m.phone_number_id}/messages",
            "body": m.payload,
        }
        if m.status == "failed" and m.wamid is None:
            words = reason(m.error_code)
            why = m.error_message or "no reason given"
            answer = f"Meta refused it (HTTP {m.graph_status or '—'}): {why}"
            if words:
                answer += f". {words}"
        else:
            answer = f"Meta accepted it (HTTP {m.graph_status or 200}): {m.wamid}"
        response = {"http_status": m.graph_status, "body": m.response}
        # Stored once Meta answered: the request's own time is that of the answer.
        at = m.sent_at or m.failed_at or m.created_at
        call = f"POST /{m.phone_number_id}/messages to Meta"
        return [
            Entry(at, "created", origin, detail),
            Entry(at, "graph_request", call, request),
            Entry(at, "graph_response", answer, response),
        ]


def contact_label(contact: Contact | None, phone: str) -> str:
    if contact is None:
        return phone
    return " ".join(p for p in (contact.firstname, contact.lastname) if p) or contact.phone


def status_entry(status: MessageStatus) -> Entry:
    payload = status.payload or {}
    summary = f"Meta reported {status.status}"
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        title = errors[0].get("title") or errors[0].get("message")
        summary += f": {code} {title}"
        words = reason(code if isinstance(code, int) else None)
        if words:
            summary += f". {words}"
    if not status.applied:
        summary += " (ignored: a duplicate or out of order)"
    return Entry(
        status.received_at, "status", summary, {"applied": status.applied, "payload": payload}
    )


def delivery_entry(
    event: WebhookEvent,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    log: WebhookLog | None,
) -> Entry:
    if log is None:
        summary = f"Webhook {event.event} to {endpoint.url}: {delivery.state}, not attempted yet"
        return Entry(
            event.created_at,
            "webhook",
            summary,
            {
                "event": event.event,
                "event_id": event.event_id,
                "url": endpoint.url,
                "state": delivery.state,
            },
        )
    answer = (
        f"HTTP {log.status_code}" if log.status_code is not None else (log.error or "no answer")
    )
    summary = f"Webhook {event.event} to {endpoint.url}, attempt {log.attempt}: {answer}"
    detail = {
        "event": event.event,
        "event_id": event.event_id,
        "url": endpoint.url,
        "attempt": log.attempt,
        "status_code": log.status_code,
        "duration_ms": log.duration_ms,
        "error": log.error,
        "response_excerpt": log.response_excerpt,
    }
    return Entry(log.created_at, "webhook", summary, detail)
