"""Emitting events into the outbox, in the caller's transaction (docs/webhooks.md).

A committed change always has its event (and one pending delivery per subscribed endpoint);
a rolled-back change has none. Workspaces with no subscribed endpoint write nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.time import utcnow
from xobito.models import Message, WebhookDelivery, WebhookEvent
from xobito.webhook.repository import EndpointRepository, EventRepository
from xobito.webhook.schemas import MODELS


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def _timestamp(now: datetime) -> str:
    """CRUD payloads use Laravel's ``2026-04-16T12:34:56+00:00`` form."""
    return now.astimezone(UTC).replace(microsecond=0).isoformat()


async def emit(
    session: AsyncSession,
    workspace_id: int,
    topic: str,
    event: str,
    body: dict[str, Any],
    *,
    endpoint_ids: list[int] | None = None,
    message: Any = None,
) -> str | None:
    """Write the event and its deliveries; returns the event id, or None if nobody listens.
    ``message``: the ``Message`` a ``message.*`` event is about (its timeline lists it)."""
    targets = (
        endpoint_ids
        if endpoint_ids is not None
        else await EndpointRepository(session, workspace_id).subscribed(topic)
    )
    if not targets:
        return None
    if message is not None and getattr(message, "id", None) is None:
        await session.flush()  # a message added in this transaction gets its id
    record = WebhookEvent(
        workspace_id=workspace_id,
        event_id=new_event_id(),
        event=event,
        topic=topic,
        body=orjson.dumps(body),
        message_id=getattr(message, "id", None),
    )
    session.add(record)
    await session.flush()
    now = utcnow()
    session.add_all(
        WebhookDelivery(event_id=record.id, endpoint_id=e, state="pending", next_attempt_at=now)
        for e in targets
    )
    return record.event_id


async def emit_crud(
    session: AsyncSession,
    workspace_id: int,
    resource: str,
    action: str,
    record: dict[str, Any],
    original: dict[str, Any] | None = None,
) -> None:
    """``contacts|statuses|sources`` x ``created|updated|deleted``."""
    body = {
        "event": action,
        "model": MODELS[resource],
        "data": {"id": record["id"], "attributes": record, "relations": {}},
        "original": original,
        "timestamp": _timestamp(utcnow()),
    }
    await emit(session, workspace_id, f"{resource}.{action}", action, body)


async def emit_crud_many(
    session: AsyncSession,
    workspace_id: int,
    resource: str,
    action: str,
    records: Iterable[dict[str, Any]],
) -> int:
    """``emit_crud`` for many records of one resource and action (a bulk import): one event
    per record, as the API would emit one by one, written with one INSERT for the events and
    one for their deliveries. ``records`` is only iterated when an endpoint listens. Returns
    how many events were written.
    """
    topic = f"{resource}.{action}"
    endpoints = await EndpointRepository(session, workspace_id).subscribed(topic)
    if not endpoints:
        return 0
    timestamp = _timestamp(utcnow())
    events = [
        (
            {
                "workspace_id": workspace_id,
                "event_id": new_event_id(),
                "event": action,
                "topic": topic,
                "body": orjson.dumps(
                    {
                        "event": action,
                        "model": MODELS[resource],
                        "data": {"id": record["id"], "attributes": record, "relations": {}},
                        "original": None,
                        "timestamp": timestamp,
                    }
                ),
            },
            endpoints,
        )
        for record in records
    ]
    if events:
        await EventRepository(session).add_many(events, utcnow())
    return len(events)


class MessageFacts(Protocol):
    """What a ``message.*`` event tells of a message (a model or a hot-path record)."""

    @property
    def wamid(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def workspace_id(self) -> int: ...
    @property
    def contact_id(self) -> int | None: ...
    @property
    def phone(self) -> str: ...
    @property
    def text(self) -> str | None: ...
    @property
    def type(self) -> str: ...


def message_event(message: MessageFacts) -> tuple[str, dict[str, Any]]:
    """``message.sent|delivered|read|failed``: the event's name and body for an outbound
    message's current status."""
    return f"message.{message.status}", message_body(message)


async def emit_message(session: AsyncSession, message: MessageFacts) -> None:
    name, body = message_event(message)
    await emit(session, message.workspace_id, name, name, body, message=message)


def message_body(message: MessageFacts) -> dict[str, Any]:
    """The body of ``message.<status>`` for a message's current status (a ``Message``, or
    any object with its attributes, such as a batch's ``MessageState``)."""
    name = f"message.{message.status}"
    data: dict[str, Any] = {
        "message_id": message.wamid,
        "status": message.status,
        "error_message": message.error_message,
        "tenant_id": message.workspace_id,
        "contact_id": message.contact_id,
        "phone": message.phone,
        "text": message.text,
    }
    if message.status == "sent":
        data["type"] = message.type
    return {
        "event": name,
        "model": "WhatsAppMessage",
        "data": data,
        "timestamp": _timestamp(utcnow()),
    }


async def emit_many(
    session: AsyncSession,
    events: Sequence[tuple[int, str, Callable[[], dict[str, Any]]]],
    message_ids: Sequence[int | None] | None = None,
) -> None:
    """``emit`` for many ``(workspace_id, event name, body maker)`` (the topic is the name),
    in order, with one INSERT for the events and one for their deliveries. A body is only
    made for an event some endpoint listens to. ``message_ids``: the message each event is
    about, if any (in the same order)."""
    listening: dict[tuple[int, str], list[int]] = {}
    records: list[tuple[dict[str, Any], list[int]]] = []
    about = list(message_ids) if message_ids is not None else [None] * len(events)
    for (workspace_id, name, body), message_id in zip(events, about, strict=True):
        key = (workspace_id, name)
        if key not in listening:
            listening[key] = await EndpointRepository(session, workspace_id).subscribed(name)
        if listening[key]:
            record = {
                "workspace_id": workspace_id,
                "event_id": new_event_id(),
                "event": name,
                "topic": name,
                "body": orjson.dumps(body()),
                "message_id": message_id,
            }
            records.append((record, listening[key]))
    if records:
        await EventRepository(session).add_many(records, utcnow())


async def emit_received(session: AsyncSession, message: Message) -> None:
    extra = message.payload or {}
    data = {
        "message_id": message.wamid,
        "tenant_id": message.workspace_id,
        "contact_id": message.contact_id,
        "phone": message.phone,
        "type": message.type,
        "text": message.text,
        "button_reply": extra.get("button_reply"),
        "media": extra.get("media"),
        "context_message_id": message.context_message_id,
        "received_at": _timestamp(message.received_at or utcnow()),
    }
    body = {
        "event": "message.received",
        "model": "WhatsAppMessage",
        "data": data,
        "timestamp": _timestamp(utcnow()),
    }
    await emit(
        session,
        message.workspace_id,
        "message.received",
        "message.received",
        body,
        message=message,
    )
