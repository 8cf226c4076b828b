"""Verify Xobito's outbound webhook deliveries (docs/webhooks.md), with no dependency beyond the
standard library.

Two schemes are signed on every delivery:

* Xobito's ``X-Webhook-Signature``: lowercase hex HMAC-SHA256 of the body, keyed with the
  secret string exactly as shown (the UTF-8 bytes of ``whsec_...``). No timestamp is signed.
* Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``): base64
  HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` keyed with the base64-decoded part after
  ``whsec_``; one ``v1,<sig>`` entry per active secret (space-separated). The timestamp must
  be within ``tolerance`` seconds of now, so a captured delivery cannot be replayed later.

:func:`verify` checks the raw body bytes (never re-serialised JSON) and returns the payload:

>>> secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
>>> body = b'{"event":"created","data":{"id":1}}'
>>> headers = sign(body, secret, msg_id="evt_1", timestamp=1_700_000_000)
>>> verify(body, headers, secret, now=1_700_000_010)["event"]
'created'
>>> verify(body, headers, secret, scheme="xobito")["event"]
'created'
>>> verify(body + b" ", headers, secret, now=1_700_000_010)
Traceback (most recent call last):
...
xobito_client.errors.WebhookVerificationError: No matching webhook-signature
>>> verify(body, headers, secret, now=1_700_000_000 + 301)
Traceback (most recent call last):
...
xobito_client.errors.WebhookVerificationError: Webhook timestamp too old
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from xobito_client.errors import WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "WebhookVerificationError",
    "sign",
    "standard_signature",
    "verify",
    "verify_standard",
    "verify_xobito",
    "xobito_signature",
]

DEFAULT_TOLERANCE = 300  # seconds (5 minutes), as the Standard Webhooks libraries use
PREFIX = "whsec_"
Scheme = Literal["auto", "standard", "xobito"]


def _secrets(secret: str | Sequence[str]) -> list[str]:
    found = [secret] if isinstance(secret, str) else list(secret)
    if not found or not all(isinstance(s, str) and s for s in found):
        raise ValueError("secret must be a non-empty 'whsec_...' string (or a list of them)")
    return found


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def _key(secret: str) -> bytes:
    """Standard Webhooks key: the base64-decoded part after ``whsec_``."""
    raw = secret.removeprefix(PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("secret is not 'whsec_' + base64") from exc


def xobito_signature(body: bytes | str, secret: str) -> str:
    """``X-Webhook-Signature``: hex HMAC-SHA256 keyed with the secret string's UTF-8 bytes."""
    return hmac.new(secret.encode(), _bytes(body), hashlib.sha256).hexdigest()


def standard_signature(body: bytes | str, secret: str, msg_id: str, timestamp: int) -> str:
    """One ``webhook-signature`` entry: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + _bytes(body)
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(
    body: bytes | str,
    secret: str | Sequence[str],
    *,
    msg_id: str,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The signature headers a delivery carries (for testing receivers): ``secret[0]`` is the
    newest secret, every secret adds a ``v1,`` entry."""
    keys = _secrets(secret)
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "X-Webhook-Id": msg_id,
        "X-Webhook-Timestamp": str(ts),
        "X-Webhook-Signature": xobito_signature(body, keys[0]),
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(standard_signature(body, k, msg_id, ts) for k in keys),
    }


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def verify_xobito(body: bytes | str, signature: str, secret: str | Sequence[str]) -> None:
    """Check an ``X-Webhook-Signature`` value against any of the given secrets."""
    given = signature.strip().lower().encode()
    for key in _secrets(secret):
        if hmac.compare_digest(xobito_signature(body, key).encode(), given):
            return
    raise WebhookVerificationError("No matching X-Webhook-Signature")


def verify_standard(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check the Standard Webhooks trio: timestamp within ``tolerance``, then any ``v1,`` entry
    matching any secret (constant-time compare)."""
    keys = _secrets(secret)
    h = _lower(headers)
    msg_id, stamp, signatures = (
        h.get("webhook-id"),
        h.get("webhook-timestamp"),
        h.get("webhook-signature"),
    )
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("Invalid webhook-timestamp") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("Webhook timestamp too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("Webhook timestamp too new")
    expected = [standard_signature(body, key, msg_id, timestamp).encode() for key in keys]
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        if any(hmac.compare_digest(("v1," + value).encode(), e) for e in expected):
            return
    raise WebhookVerificationError("No matching webhook-signature")


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    scheme: Scheme = "auto",
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """Verify a delivery and return its decoded JSON payload.

    ``body`` must be the raw request body. ``headers`` is any mapping (case-insensitive).
    ``secret`` may be a list (during a rotation, old and new). ``scheme="auto"`` uses Standard
    Webhooks when its headers are present (signature and replay protection), else
    ``X-Webhook-Signature``. Raises :class:`WebhookVerificationError` on any mismatch.
    """
    _secrets(secret)  # a missing secret is a programming error, not a bad delivery
    h = _lower(headers)
    if scheme == "auto":
        scheme = "standard" if "webhook-signature" in h else "xobito"
    if scheme == "standard":
        verify_standard(body, h, secret, tolerance=tolerance, now=now)
    elif scheme == "xobito":
        signature = h.get("x-webhook-signature")
        if not signature:
            raise WebhookVerificationError("Missing X-Webhook-Signature")
        verify_xobito(body, signature, secret)
    else:
        raise ValueError(f"unknown scheme {scheme!r}")
    try:
        return json.loads(_bytes(body))
    except ValueError:
        raise WebhookVerificationError("The webhook body is not valid JSON") from None
