"""Configuring Meta webhook forwards: the webhook endpoints of kind ``meta``, with fields
instead of events (``webhook.forwarding`` fills them)."""

from __future__ import annotations

from typing import Any

from xobito.kit.time import utcnow
from xobito.models import WebhookEndpoint
from xobito.webhook.forward_schemas import (
    META_FIELDS,
    ForwardCreate,
    ForwardUpdate,
    topic,
)
from xobito.webhook.service import WebhookService

FORWARD_NOT_FOUND = "Meta forward not found"


class ForwardService(WebhookService):
    """Create (the secret is returned once), list, get, update, remove, rotate the secret,
    send a test event, read the attempt log: as for webhook endpoints."""

    kind = "meta"
    not_found = FORWARD_NOT_FOUND
    create_body = ForwardCreate
    update_body = ForwardUpdate

    def topics(self, data: Any) -> list[str] | None:
        fields: list[str] | None = data.fields
        return [topic(f) for f in dict.fromkeys(fields)] if fields is not None else None

    def all_topics(self) -> list[str]:
        return [topic(f) for f in META_FIELDS]

    def test_body(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        """Shaped like a Meta webhook, so a receiver's parser can be tried on it."""
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "0",
                    "time": int(utcnow().timestamp()),
                    "changes": [
                        {
                            "field": "test",
                            "value": {
                                "forward_id": endpoint.id,
                                "tenant_id": self.workspace_id,
                                "message": "This is a test event from Xobito.",
                            },
                        }
                    ],
                }
            ],
        }
