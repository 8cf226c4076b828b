"""Meta webhook bodies as the product itself produces them (sandbox simulation), and the
``X-Hub-Signature-256`` check."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from typing import Any


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """Whether ``header`` is the HMAC of ``body`` under any of ``secrets`` (constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    given = header.encode()
    matched = False
    for secret in secrets:
        # Compare against every candidate so timing does not tell which one matched.
        matched |= hmac.compare_digest(given, signature(body, secret).encode())
    return matched


def _envelope(waba_id: str, phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    metadata = {"display_phone_number": phone_number_id, "phone_number_id": phone_number_id}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                    }
                ],
            }
        ],
    }


def status_payload(
    *,
    waba_id: str,
    phone_number_id: str,
    wamid: str,
    status: str,
    recipient_id: str,
    error_code: int | None = None,
    error_title: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient_id,
    }
    if status == "failed":
        title = error_title or "Message undeliverable"
        entry["errors"] = [
            {
                "code": error_code or 131026,
                "title": title,
                "message": title,
                "error_data": {"details": title},
            }
        ]
    return _envelope(waba_id, phone_number_id, {"statuses": [entry]})


def inbound_payload(
    *,
    waba_id: str,
    phone_number_id: str,
    wamid: str,
    wa_id: str,
    profile_name: str,
    text: str | None = None,
    button_reply: dict[str, str] | None = None,
    media: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A customer's message as Meta posts it: text, a button reply, or ``media`` (``type``,
    ``id``, ``mime_type``, optional ``caption``/``filename``)."""
    message: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(int(time.time()))}
    if media is not None:
        kind = media["type"]
        message["type"] = kind
        message[kind] = {k: v for k, v in media.items() if k != "type" and v is not None}
    elif button_reply is not None:
        message["type"] = "interactive"
        message["interactive"] = {"type": "button_reply", "button_reply": button_reply}
    else:
        message["type"] = "text"
        message["text"] = {"body": text or ""}
    return _envelope(
        waba_id,
        phone_number_id,
        {
            "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
            "messages": [message],
        },
    )
