"""Endpoint bodies and records; the event names a subscription can select."""

from __future__ import annotations

import base64
import secrets
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from xobito.kit.time import iso
from xobito.kit.validation import Len, RequestModel, Url
from xobito.models import WebhookEndpoint, WebhookLog

CRUD_RESOURCES = ("contacts", "statuses", "sources")
CRUD_ACTIONS = ("created", "updated", "deleted")
MESSAGE_EVENTS = (
    "message.sent",
    "message.delivered",
    "message.read",
    "message.failed",
    "message.received",
)
CAMPAIGN_EVENTS = ("campaign.started", "campaign.paused", "campaign.completed")
EVENT_NAMES: tuple[str, ...] = (
    *(f"{r}.{a}" for r in CRUD_RESOURCES for a in CRUD_ACTIONS),
    *MESSAGE_EVENTS,
    *CAMPAIGN_EVENTS,
)
MODELS = {
    "contacts": "App\\Models\\Tenant\\Contact",
    "statuses": "App\\Models\\Tenant\\Status",
    "sources": "App\\Models\\Tenant\\Source",
}


def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (Standard Webhooks format)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _event_name(value: str) -> str:
    if value not in EVENT_NAMES:
        raise PydanticCustomError("in", "in")
    return value


EventName = Annotated[
    str, AfterValidator(_event_name), Field(json_schema_extra={"enum": list(EVENT_NAMES)})
]
WebhookUrl = Annotated[Url, Len(max=2048)]


class EndpointCreate(RequestModel):
    url: WebhookUrl
    events: Annotated[list[EventName], Field(min_length=1, max_length=len(EVENT_NAMES))] | None = (
        None
    )
    enabled: bool | None = None


class EndpointUpdate(RequestModel):
    url: WebhookUrl | None = None
    events: Annotated[list[EventName], Field(min_length=1, max_length=len(EVENT_NAMES))] | None = (
        None
    )
    enabled: bool | None = None


def endpoint_record(e: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": e.id,
        "tenant_id": e.workspace_id,
        "url": e.url,
        "enabled": int(e.enabled),
        "events": list(e.events),
        "disabled_reason": e.disabled_reason,
        "failing_since": iso(e.failing_since),
        "secret_rotation_ends_at": iso(e.previous_secret_expires_at) if e.previous_secret else None,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
    }
    if secret is not None:
        record["secret"] = secret
    return record


def log_record(log: WebhookLog) -> dict[str, Any]:
    return {
        "id": log.id,
        "event_id": log.event_id,
        "event": log.event,
        "endpoint_id": log.endpoint_id,
        "delivery_id": log.delivery_id,
        "attempt": log.attempt,
        "status_code": log.status_code,
        "response_excerpt": log.response_excerpt,
        "duration_ms": log.duration_ms,
        "error": log.error,
        "created_at": iso(log.created_at),
    }
