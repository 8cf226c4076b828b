"""Meta-format webhook payloads (status updates), their signature, and delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import orjson

from xobito.testing.meta_errors import CATALOGUE, error_title

StatusName = Literal["sent", "delivered", "read", "failed"]
SIGNATURE_HEADER = "X-Hub-Signature-256"

DEFAULT_PHONE_NUMBER_ID = "106540352242922"
DEFAULT_DISPLAY_PHONE_NUMBER = "15550783881"
DEFAULT_WABA_ID = "419561257915477"


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One entry of ``value.statuses[]``. ``error_code`` is only used for ``failed``."""

    wamid: str
    status: StatusName
    recipient_id: str
    timestamp: int | None = None  # unix seconds; now when None
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    pricing_category: str = "utility"


def _status_object(update: StatusUpdate) -> dict[str, Any]:
    ts = update.timestamp if update.timestamp is not None else int(time.time())
    obj: dict[str, Any] = {
        "id": update.wamid,
        "status": update.status,
        "timestamp": str(ts),  # Meta sends unix seconds as a string
        "recipient_id": update.recipient_id,
    }
    if update.status == "failed":
        code = update.error_code if update.error_code is not None else 131026
        spec = CATALOGUE.get(code)
        title = update.error_title or error_title(code)
        details = update.error_details or (spec.details if spec and spec.details else title)
        obj["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    else:
        obj["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": update.pricing_category,
        }
    return obj


def build_status_webhook(
    updates: Iterable[StatusUpdate],
    *,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    display_phone_number: str = DEFAULT_DISPLAY_PHONE_NUMBER,
    waba_id: str = DEFAULT_WABA_ID,
) -> dict[str, Any]:
    """A ``field: messages`` webhook carrying ``statuses[]`` for one business number."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_phone_number,
                                "phone_number_id": phone_number_id,
                            },
                            "statuses": [_status_object(u) for u in updates],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def build_text_message_webhook(
    from_wa_id: str,
    body: str,
    *,
    profile_name: str = "Sheena Nelson",
    user_id: str | None = None,
    wamid: str | None = None,
    timestamp: int | None = None,
    phone_number_id: str = DEFAULT_PHONE_NUMBER_ID,
    display_phone_number: str = DEFAULT_DISPLAY_PHONE_NUMBER,
    waba_id: str = DEFAULT_WABA_ID,
) -> dict[str, Any]:
    """An inbound text message webhook, shaped like Meta's "Text Message" example.

    ``user_id`` adds the business-scoped user id newer Graph versions put in ``contacts[]``.
    """
    ts = timestamp if timestamp is not None else int(time.time())
    # Random unless given: pass the same ``wamid`` twice to simulate a Meta redelivery.
    message_id = wamid or "wamid." + base64.b64encode(secrets.token_bytes(24)).decode()
    contact: dict[str, Any] = {"profile": {"name": profile_name}, "wa_id": from_wa_id}
    if user_id is not None:
        contact["user_id"] = user_id
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
        "contacts": [contact],
        "messages": [
            {
                "from": from_wa_id,
                "id": message_id,
                "timestamp": str(ts),
                "type": "text",
                "text": {"body": body},
            }
        ],
    }
    change = {"value": value, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": [change]}]}


def sign_payload(raw_body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(raw_body: bytes, header_value: str | None, app_secret: str) -> bool:
    """Constant-time check of an ``X-Hub-Signature-256`` header."""
    if not header_value:
        return False
    return hmac.compare_digest(sign_payload(raw_body, app_secret), header_value)


def encode_webhook(payload: Mapping[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """Raw body and headers of a signed delivery (sign the exact bytes that are sent)."""
    raw = orjson.dumps(payload)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_payload(raw, app_secret)}
    return raw, headers


async def post_webhook(
    target_url: str,
    payload: Mapping[str, Any],
    app_secret: str,
    *,
    session: aiohttp.ClientSession | None = None,
) -> int:
    """POST one signed webhook as Meta does; returns the receiver's HTTP status."""
    raw, headers = encode_webhook(payload, app_secret)
    if session is not None:
        async with session.post(target_url, data=raw, headers=headers) as resp:
            await resp.read()
            return resp.status
    async with (
        aiohttp.ClientSession() as own,
        own.post(target_url, data=raw, headers=headers) as resp,
    ):
        await resp.read()
        return resp.status
