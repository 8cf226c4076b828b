"""Meta webhook forwards: their bodies and records, and the fields Meta sends."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from xobito.kit.time import iso
from xobito.kit.validation import RequestModel
from xobito.models import WebhookEndpoint
from xobito.webhook.schemas import WebhookUrl

# The ``field`` of a WhatsApp Business Account webhook change, as Meta's webhooks reference
# lists them (and the group fields of its OpenAPI file).
META_FIELDS: tuple[str, ...] = (
    "messages",
    "message_template_status_update",
    "message_template_quality_update",
    "message_template_components_update",
    "template_category_update",
    "phone_number_quality_update",
    "phone_number_name_update",
    "account_update",
    "account_alerts",
    "account_review_update",
    "business_capability_update",
    "business_status_update",
    "automatic_events",
    "calls",
    "flows",
    "history",
    "message_echoes",
    "smb_message_echoes",
    "smb_app_state_sync",
    "partner_solutions",
    "payment_configuration_update",
    "security",
    "tracking_events",
    "user_preferences",
    "group_lifecycle_update",
    "group_settings_update",
    "group_participant_update",
)
TOPIC_PREFIX = "meta."


def topic(field: str) -> str:
    """The outbox topic of a forwarded field (never one of Xobito's own event names)."""
    return TOPIC_PREFIX + field


def _meta_field(value: str) -> str:
    if value not in META_FIELDS:
        raise PydanticCustomError("in", "in")
    return value


MetaField = Annotated[
    str, AfterValidator(_meta_field), Field(json_schema_extra={"enum": list(META_FIELDS)})
]
Fields = Annotated[list[MetaField], Field(min_length=1, max_length=len(META_FIELDS))]


class ForwardCreate(RequestModel):
    url: WebhookUrl
    fields: Fields | None = None
    enabled: bool | None = None


class ForwardUpdate(RequestModel):
    url: WebhookUrl | None = None
    fields: Fields | None = None
    enabled: bool | None = None


def forward_record(e: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": e.id,
        "tenant_id": e.workspace_id,
        "url": e.url,
        "enabled": int(e.enabled),
        "fields": [t.removeprefix(TOPIC_PREFIX) for t in e.events],
        "disabled_reason": e.disabled_reason,
        "failing_since": iso(e.failing_since),
        "secret_rotation_ends_at": iso(e.previous_secret_expires_at) if e.previous_secret else None,
        "created_at": iso(e.created_at),
        "updated_at": iso(e.updated_at),
    }
    if secret is not None:
        record["secret"] = secret
    return record
