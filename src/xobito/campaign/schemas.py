"""Campaign request bodies, records and their OpenAPI shapes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from xobito.kit.openapi import ID, TIMESTAMP, Schema, nullable, record
from xobito.kit.time import iso
from xobito.kit.validation import Len, RequestModel, Url
from xobito.models import Campaign, CampaignRecipient

STATES = ("draft", "scheduled", "running", "paused", "completed", "cancelled", "failed")
RECIPIENT_STATES = (
    "pending",
    "claimed",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "excluded",
    "cancelled",
)
EXCLUSION_REASONS = ("opted_out", "duplicate", "invalid", "missing_variable")
Int32 = Annotated[int, Field(ge=1, le=2**31 - 1)]
IdList = Annotated[list[Int32], Field(max_length=1000)]


class AudienceIn(RequestModel):
    group_ids: IdList | None = None
    status_ids: IdList | None = None
    source_ids: IdList | None = None
    types: Annotated[list[Literal["lead", "customer", "guest"]], Field(max_length=3)] | None = None
    contact_ids: Annotated[list[Int32], Field(max_length=10_000)] | None = None
    all: bool | None = None


class CampaignIn(RequestModel):
    """``POST /campaigns`` (JSON; or multipart with ``csv_file`` and ``header_*_file``, where
    ``variables`` and ``audience`` are JSON text)."""

    name: Annotated[str, Len(max=255)]
    template_name: Annotated[str, Len(max=512)]
    template_language: Annotated[str, Len(min=2, max=10)]
    from_phone_number_id: Annotated[str, Len(max=64)] | None = None
    variables: dict[str, Any] | None = None
    header_image_url: Annotated[Url, Len(max=2048)] | None = None
    header_video_url: Annotated[Url, Len(max=2048)] | None = None
    header_document_url: Annotated[Url, Len(max=2048)] | None = None
    header_document_name: Annotated[str, Len(max=255)] | None = None
    audience: AudienceIn | None = None
    csv_status_id: Int32 | None = None
    csv_source_id: Int32 | None = None
    scheduled_at: Annotated[str, Len(max=64)] | None = None
    timezone: Annotated[str, Len(max=64)] | None = None
    rate_per_second: Annotated[int, Field(ge=1, le=1000)] | None = None
    draft: bool | None = None


class NumberIn(RequestModel):
    """``PUT /campaigns/numbers/{phone_number_id}``."""

    rate_per_second: Annotated[int, Field(ge=1, le=1000)] | None = None
    coexistence: bool | None = None


class OptOutIn(RequestModel):
    """``PUT /campaigns/opt-out``: keywords and confirmations."""

    enabled: bool | None = None
    stop_keywords: (
        Annotated[list[Annotated[str, Len(min=1, max=64)]], Field(min_length=1, max_length=50)]
        | None
    ) = None
    start_keywords: (
        Annotated[list[Annotated[str, Len(min=1, max=64)]], Field(min_length=1, max_length=50)]
        | None
    ) = None
    stop_reply: Annotated[str, Len(max=1024)] | None = None
    start_reply: Annotated[str, Len(max=1024)] | None = None


def counts_record(counts: dict[str, int]) -> dict[str, int]:
    return {
        k: counts.get(k, 0)
        for k in ("total", "excluded", "sent", "delivered", "read", "failed", "replied", "pending")
    }


def campaign_record(c: Campaign, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": c.id,
        "tenant_id": c.workspace_id,
        "name": c.name,
        "state": c.state,
        "reason": c.reason,
        "template_name": c.template_name,
        "template_language": c.template_language,
        "from_phone_number_id": c.phone_number_id,
        "header": c.header,
        "variables": c.variables,
        "audience": c.audience,
        "csv": c.csv_report,
        "scheduled_at": iso(c.scheduled_at),
        "timezone": c.timezone,
        "rate_per_second": c.rate_per_second,
        "counts": counts_record(counts),
        "exclusions": {k: (c.exclusions or {}).get(k, 0) for k in EXCLUSION_REASONS},
        "started_at": iso(c.started_at),
        "completed_at": iso(c.completed_at),
        "cancelled_at": iso(c.cancelled_at),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def recipient_record(r: CampaignRecipient) -> dict[str, Any]:
    return {
        "id": r.id,
        "campaign_id": r.campaign_id,
        "contact_id": r.contact_id,
        "phone": r.phone,
        "state": r.state,
        "message_id": r.wamid,
        "error_code": r.error_code,
        "error_message": r.error_message,
        "retryable": int(r.retryable),
        "attempts": r.attempts,
        "next_attempt_at": iso(r.next_attempt_at) if r.state == "pending" else None,
        "sent_at": iso(r.sent_at),
        "delivered_at": iso(r.delivered_at),
        "read_at": iso(r.read_at),
        "failed_at": iso(r.failed_at),
        "replied_at": iso(r.replied_at),
    }


_STR: Schema = {"type": "string"}
_NSTR = nullable(_STR)
_NTIME = nullable(TIMESTAMP)
_COUNT: Schema = {"type": "integer", "minimum": 0}
_OBJ: Schema = {"type": "object"}
COUNTS = record(
    **{
        k: _COUNT
        for k in ("total", "excluded", "sent", "delivered", "read", "failed", "replied", "pending")
    }
)
CAMPAIGN = record(
    id=ID,
    tenant_id=ID,
    name=_STR,
    state={"type": "string", "enum": list(STATES)},
    reason=_NSTR,
    template_name=_STR,
    template_language=_STR,
    from_phone_number_id=_STR,
    header=nullable(_OBJ),
    variables=_OBJ,
    audience=_OBJ,
    csv=nullable(_OBJ),
    scheduled_at=_NTIME,
    timezone=_STR,
    rate_per_second={"type": "integer", "minimum": 1, "maximum": 1000},
    counts=COUNTS,
    exclusions=record(**{k: _COUNT for k in EXCLUSION_REASONS}),
    started_at=_NTIME,
    completed_at=_NTIME,
    cancelled_at=_NTIME,
    created_at=TIMESTAMP,
    updated_at=TIMESTAMP,
)
RECIPIENT = record(
    id=ID,
    campaign_id=ID,
    contact_id=nullable(ID),
    phone=_STR,
    state={"type": "string", "enum": list(RECIPIENT_STATES)},
    message_id=_NSTR,
    error_code=nullable({"type": "integer"}),
    error_message=_NSTR,
    retryable={"type": "integer", "enum": [0, 1]},
    attempts=_COUNT,
    next_attempt_at=_NTIME,
    sent_at=_NTIME,
    delivered_at=_NTIME,
    read_at=_NTIME,
    failed_at=_NTIME,
    replied_at=_NTIME,
)
RECIPIENT_PAGE = record(
    data={"type": "array", "items": RECIPIENT},
    next_cursor=_NSTR,
    per_page={"type": "integer", "minimum": 1, "maximum": 1000},
)
NUMBER = record(
    phone_number_id=_STR,
    rate_per_second={"type": "integer", "minimum": 1, "maximum": 1000},
    max_rate_per_second={"type": "integer", "minimum": 1, "maximum": 1000},
    coexistence={"type": "integer", "enum": [0, 1]},
)
OPT_OUT = record(
    enabled={"type": "integer", "enum": [0, 1]},
    stop_keywords={"type": "array", "items": _STR},
    start_keywords={"type": "array", "items": _STR},
    stop_reply=_NSTR,
    start_reply=_NSTR,
)
