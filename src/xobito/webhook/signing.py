"""Delivery headers: Xobito's hex signature and the Standard Webhooks trio (docs/webhooks.md)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


def xobito_signature(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of the body, keyed with the secret string as shown."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(
    *, body: bytes, event_id: str, event: str, secrets: Sequence[str], now: datetime
) -> dict[str, str]:
    """``secrets[0]`` is the newest; every active secret adds a ``v1,`` entry."""
    timestamp = int(now.timestamp())
    stamp = datetime.fromtimestamp(timestamp, tz=UTC)
    payload = body.decode()
    standard = " ".join(Webhook(s).sign(event_id, stamp, payload) for s in secrets)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Xobito-Webhooks/1.0",
        "X-Webhook-Event": event,
        "X-Webhook-Id": event_id,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": xobito_signature(body, secrets[0]),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
    }
