"""The API's shapes of conversations and their messages, and their OpenAPI schemas."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from xobito.chat.reasons import reason
from xobito.kit.openapi import ID, TIMESTAMP, nullable, record
from xobito.kit.time import iso
from xobito.kit.validation import RequestModel
from xobito.models import Chat, Contact, Message, User

CARE_WINDOW = timedelta(hours=24)


class AssignIn(RequestModel):
    """``POST /chats/{id}/assign``: a member of the workspace, or null to unassign."""

    user_id: int | None = Field(description="A member's user id; null unassigns")


def care_window_ends(chat: Chat) -> datetime | None:
    return chat.last_inbound_at + CARE_WINDOW if chat.last_inbound_at is not None else None


def sender_of(
    message: Message, users: dict[int, User], tokens: dict[int, str], contact_name: str
) -> dict[str, Any]:
    """Who wrote it: the customer, a dashboard user, an API token, or (neither) the system."""
    if message.direction == "inbound":
        return {"type": "customer", "id": message.contact_id, "name": contact_name}
    if message.user_id is not None:
        user = users.get(message.user_id)
        return {"type": "user", "id": message.user_id, "name": user.name if user else None}
    if message.token_id is not None:
        return {"type": "token", "id": message.token_id, "name": tokens.get(message.token_id)}
    return {"type": "system", "id": None, "name": None}


def contact_name(contact: Contact) -> str:
    return " ".join(p for p in (contact.firstname, contact.lastname) if p) or contact.phone


def message_record(
    message: Message, users: dict[int, User], tokens: dict[int, str], name: str
) -> dict[str, Any]:
    payload = message.payload or {}
    media = payload.get("media") if message.direction == "inbound" else None
    return {
        "id": message.id,
        "message_id": message.wamid,
        "chat_id": message.chat_id,
        "contact_id": message.contact_id,
        "direction": message.direction,
        "type": message.type,
        "text": message.text,
        "status": message.status,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "error_reason": reason(message.error_code) if message.status == "failed" else None,
        "context_message_id": message.context_message_id,
        "media": media if isinstance(media, dict) else None,
        "sender": sender_of(message, users, tokens, name),
        "sent_at": iso(message.sent_at),
        "delivered_at": iso(message.delivered_at),
        "read_at": iso(message.read_at),
        "failed_at": iso(message.failed_at),
        "received_at": iso(message.received_at),
        "created_at": iso(message.created_at),
    }


def chat_record(
    chat: Chat,
    contact: Contact,
    last: dict[str, Any] | None,
    assignee: User | None,
) -> dict[str, Any]:
    return {
        "id": chat.id,
        "tenant_id": chat.workspace_id,
        "contact": {
            "id": contact.id,
            "name": contact_name(contact),
            "phone": contact.phone,
            "is_opted_out": int(contact.is_opted_out),
        },
        "assigned_user": {"id": assignee.id, "name": assignee.name} if assignee else None,
        "state": "resolved" if chat.resolved_at is not None else "open",
        "resolved_at": iso(chat.resolved_at),
        "unread_count": chat.unread_count,
        "last_message": last,
        "last_message_at": iso(chat.last_message_at),
        "last_inbound_at": iso(chat.last_inbound_at),
        "care_window_ends_at": iso(care_window_ends(chat)),
        "created_at": iso(chat.created_at),
        "updated_at": iso(chat.updated_at),
    }


# ---- OpenAPI ----------------------------------------------------------------------------------

_STR: dict[str, Any] = {"type": "string"}
_NSTR = nullable(_STR)
_NTIME = nullable(TIMESTAMP)
PERSON = record(id=ID, name=_STR)
SENDER = record(
    type={"type": "string", "enum": ["customer", "user", "token", "system"]},
    id=nullable(ID),
    name=_NSTR,
)
MESSAGE = record(
    id=ID,
    message_id=_NSTR,
    chat_id=nullable(ID),
    contact_id=nullable(ID),
    direction={"type": "string", "enum": ["inbound", "outbound", "note"]},
    type=_STR,
    text=_NSTR,
    status=_STR,
    error_code=nullable({"type": "integer"}),
    error_message=_NSTR,
    error_reason=_NSTR,
    context_message_id=_NSTR,
    media=nullable({"type": "object"}),
    sender=SENDER,
    sent_at=_NTIME,
    delivered_at=_NTIME,
    read_at=_NTIME,
    failed_at=_NTIME,
    received_at=_NTIME,
    created_at=TIMESTAMP,
)
CHAT = record(
    id=ID,
    tenant_id=ID,
    contact=record(
        id=ID,
        name=_STR,
        phone={"type": "string", "pattern": r"^\+[0-9]+$"},
        is_opted_out={"type": "integer", "enum": [0, 1]},
    ),
    assigned_user=nullable(PERSON),
    state={"type": "string", "enum": ["open", "resolved"]},
    resolved_at=_NTIME,
    unread_count={"type": "integer", "minimum": 0},
    last_message=nullable(MESSAGE),
    last_message_at=_NTIME,
    last_inbound_at=_NTIME,
    care_window_ends_at=_NTIME,
    created_at=TIMESTAMP,
    updated_at=TIMESTAMP,
)


def cursor_page(item: dict[str, Any]) -> dict[str, Any]:
    """Laravel's cursor paginator around ``item`` records."""
    url = nullable(_STR)
    return record(
        data={"type": "array", "items": item},
        path=_STR,
        per_page={"type": "integer", "minimum": 1, "maximum": 100},
        next_cursor=_NSTR,
        next_page_url=url,
        prev_cursor=_NSTR,
        prev_page_url=url,
    )


TIMELINE_ENTRY = record(
    at=_NTIME,
    kind={
        "type": "string",
        "enum": ["created", "graph_request", "graph_response", "received", "status", "webhook"],
    },
    summary=_STR,
    detail={"type": "object"},
)
TIMELINE = record(message=MESSAGE, entries={"type": "array", "items": TIMELINE_ENTRY})
