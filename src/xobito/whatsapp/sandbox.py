"""The ``sandbox`` provider: every send succeeds locally, no network, no Meta account.

Numbers ending in ``0000`` fail with Meta's error 131026 (message undeliverable), so the
failure path can be exercised too. The delivery statuses that follow a send are simulated by
the messaging service, which feeds Meta-shaped status webhooks through the inbox — the same
path real webhooks take.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from xobito.whatsapp.base import ConnectionInfo, SendResult
from xobito.whatsapp.errors import WhatsAppError

UNDELIVERABLE = 131026


def new_wamid() -> str:
    """A fresh id shaped like Meta's (``wamid.`` + base64)."""
    raw = b"\x15\x02\x00\x11\x18\x12" + secrets.token_bytes(18)
    return "wamid." + base64.urlsafe_b64encode(raw).decode()  # URL-safe: it ends up in paths


class SandboxProvider:
    simulates_statuses = True

    async def send_message(self, conn: ConnectionInfo, payload: dict[str, Any]) -> SendResult:
        to = str(payload.get("to", ""))
        if to.endswith("0000"):
            raise WhatsAppError(
                "Message undeliverable",
                code=UNDELIVERABLE,
                title="Message undeliverable",
                http_status=400,
                retryable=False,
            )
        wamid = new_wamid()
        raw: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}],
        }
        status = None
        if payload.get("type") == "template":
            status = "accepted"
            raw["messages"][0]["message_status"] = status
        return SendResult(wamid=wamid, wa_id=to, raw=raw, message_status=status)

    async def upload_media(
        self, conn: ConnectionInfo, data: bytes, mime_type: str, filename: str
    ) -> str:
        return str(10**15 + secrets.randbelow(10**15))

    async def list_templates(self, conn: ConnectionInfo) -> list[dict[str, Any]]:
        """The sandbox offers two approved templates so template sends can be tried."""
        return [
            {
                "id": "100000000000001",
                "name": "hello_world",
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "quality_score": {"score": "GREEN"},
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                    {
                        "type": "BODY",
                        "text": "Welcome and congratulations!! This message "
                        "demonstrates your ability to send a WhatsApp message notification.",
                    },
                    {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
                ],
            },
            {
                "id": "100000000000002",
                "name": "order_update",
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "quality_score": {"score": "UNKNOWN"},
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                    {
                        "type": "BODY",
                        "text": "Hi {{1}}, your order {{2}} is on its way.",
                        "example": {"body_text": [["Maria", "#4521"]]},
                    },
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"},
                        ],
                    },
                ],
            },
        ]

    async def close(self) -> None:
        return None
