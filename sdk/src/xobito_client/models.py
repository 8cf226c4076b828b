"""Typed records the API returns (docs/api/contacts.md, docs/api/labels.md, docs/api/templates.md,
docs/api/messages.md). Unknown fields are kept (``extra="allow"``),
so a newer server never breaks an older client; ``1``/``0`` flags become ``bool``.

>>> from xobito_client.models import Status
>>> s = Status.model_validate({"id": 1, "tenant_id": 2, "name": "New", "color": "#00ff00",
...                            "isdefault": 1, "created_at": "2026-04-16T12:00:00.000000Z",
...                            "updated_at": "2026-04-16T12:00:00.000000Z"})
>>> s.isdefault, s.created_at.year
(True, 2026)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Campaign",
    "CampaignCounts",
    "CampaignRecipient",
    "Chat",
    "ChatContact",
    "ChatMessage",
    "Contact",
    "CursorPage",
    "Group",
    "MessageStatus",
    "Page",
    "PageLink",
    "Person",
    "PhoneValidation",
    "RecipientPage",
    "Sender",
    "SentMessage",
    "Source",
    "Status",
    "Template",
    "Timeline",
    "TimelineEntry",
    "XobitoModel",
]

T = TypeVar("T", bound=BaseModel)


class XobitoModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Contact(XobitoModel):
    id: int
    tenant_id: int
    firstname: str
    lastname: str | None = None
    company: str | None = None
    type: str
    description: str | None = None
    country_id: int | None = None
    zip: str | None = None
    city: str | None = None
    state: str | None = None
    address: str | None = None
    website: str | None = None
    email: str | None = None
    phone: str
    source_id: int | None = None
    status_id: int | None = None
    assigned_id: int | None = None
    group_id: list[int] = Field(default_factory=list)
    is_enabled: bool = True
    is_opted_out: bool = False
    opted_out_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Status(XobitoModel):
    id: int
    tenant_id: int
    name: str
    color: str | None = None
    isdefault: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Source(XobitoModel):
    id: int
    tenant_id: int
    name: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Group(XobitoModel):
    id: int
    tenant_id: int
    name: str
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Template(XobitoModel):
    id: int
    tenant_id: int
    template_id: str | None = None
    template_name: str
    language: str
    status: str
    category: str | None = None
    header_data_format: str | None = None
    header_data_text: str | None = None
    header_params_count: int = 0
    body_data: str | None = None
    body_params_count: int = 0
    footer_data: str | None = None
    footer_params_count: int = 0
    buttons_data: Any = None
    header_file_url: str | None = None
    header_variable_value: Any = None
    body_variable_value: Any = None
    template_type: str | None = None
    cards_json: Any = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class SentMessage(XobitoModel):
    """``data`` of a successful send."""

    message_id: str
    contact_id: int | None = None
    phone: str
    message: str | None = None
    status: str
    sent_at: datetime | None = None
    chat_id: int | None = None
    contact_created: bool = False
    whatsapp_response: dict[str, Any] | None = None


class MessageStatus(XobitoModel):
    """``GET /messages/{id}/status``."""

    message_id: str
    delivery_status: str
    error_message: str | None = None
    source: str | None = None
    last_updated: datetime | None = None
    statuses: dict[str, str] = Field(default_factory=dict)


class PhoneValidation(XobitoModel):
    """``POST /phone/validate`` (format check only)."""

    phone: str
    phone_digits: str
    format_valid: bool
    country_code: str | None = None
    country: str | None = None
    national_number: str | None = None
    e164: str | None = None
    reason: str | None = None
    note: str | None = None


class PageLink(XobitoModel):
    url: str | None = None
    label: str
    active: bool = False


class Page(XobitoModel, Generic[T]):
    """One page of Laravel's length-aware paginator (``from`` is ``from_`` here)."""

    current_page: int
    data: list[T]
    first_page_url: str | None = None
    from_: int | None = Field(default=None, alias="from")
    last_page: int
    last_page_url: str | None = None
    links: list[PageLink] = Field(default_factory=list)
    next_page_url: str | None = None
    path: str | None = None
    per_page: int
    prev_page_url: str | None = None
    to: int | None = None
    total: int

    @property
    def has_next(self) -> bool:
        return self.next_page_url is not None


# ---- the team inbox (beyond Xobito v1) -----------------------------------------------------


class ChatContact(XobitoModel):
    id: int
    name: str
    phone: str
    is_opted_out: bool = False


class Person(XobitoModel):
    id: int
    name: str


class Sender(XobitoModel):
    """Who wrote a message: ``customer``, ``user`` (dashboard), ``token`` (API), ``system``."""

    type: str
    id: int | None = None
    name: str | None = None


class ChatMessage(XobitoModel):
    """A message of a conversation (``GET /chats/{id}/messages``); ``id`` is ours,
    ``message_id`` Meta's wamid (None for a send Meta refused, and for notes)."""

    id: int
    message_id: str | None = None
    chat_id: int | None = None
    contact_id: int | None = None
    direction: str
    type: str
    text: str | None = None
    status: str
    error_code: int | None = None
    error_message: str | None = None
    error_reason: str | None = None
    context_message_id: str | None = None
    media: dict[str, Any] | None = None
    sender: Sender
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    failed_at: datetime | None = None
    received_at: datetime | None = None
    created_at: datetime


class Chat(XobitoModel):
    """A conversation with one contact and its inbox state."""

    id: int
    tenant_id: int
    contact: ChatContact
    assigned_user: Person | None = None
    state: str
    resolved_at: datetime | None = None
    unread_count: int = 0
    last_message: ChatMessage | None = None
    last_message_at: datetime | None = None
    last_inbound_at: datetime | None = None
    care_window_ends_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class CursorPage(XobitoModel, Generic[T]):
    """One page of Laravel's cursor paginator: follow ``next_cursor``."""

    data: list[T]
    path: str | None = None
    per_page: int
    next_cursor: str | None = None
    next_page_url: str | None = None
    prev_cursor: str | None = None
    prev_page_url: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


class TimelineEntry(XobitoModel):
    """``kind``: created, graph_request, graph_response, received, status or webhook."""

    at: datetime | None = None
    kind: str
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)


class Timeline(XobitoModel):
    """``GET /messages/{id}/timeline``: the message and what happened to it, in order."""

    message: ChatMessage
    entries: list[TimelineEntry]


# ---- campaigns (beyond Xobito v1) ----------------------------------------------------------


class CampaignCounts(XobitoModel):
    total: int = 0
    excluded: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    replied: int = 0
    pending: int = 0


class Campaign(XobitoModel):
    """A template broadcast; ``state`` is draft, scheduled, running, paused, completed,
    cancelled or failed; ``reason`` says why it paused or failed."""

    id: int
    tenant_id: int
    name: str
    state: str
    reason: str | None = None
    template_name: str
    template_language: str
    from_phone_number_id: str
    variables: dict[str, Any] = Field(default_factory=dict)
    audience: dict[str, Any] = Field(default_factory=dict)
    csv: dict[str, Any] | None = None
    scheduled_at: datetime | None = None
    timezone: str = "UTC"
    rate_per_second: int
    counts: CampaignCounts
    exclusions: dict[str, int] = Field(default_factory=dict)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class CampaignRecipient(XobitoModel):
    id: int
    campaign_id: int
    contact_id: int | None = None
    phone: str
    state: str
    message_id: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    retryable: bool = False
    attempts: int = 0
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    failed_at: datetime | None = None
    replied_at: datetime | None = None


class RecipientPage(XobitoModel):
    """One page of a campaign's recipients; pass ``next_cursor`` for the next (None: last)."""

    data: list[CampaignRecipient]
    next_cursor: str | None = None
    per_page: int
