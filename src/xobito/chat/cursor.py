"""Opaque cursors of the chat lists: a position in a keyset order, base64url JSON.

A cursor that does not decode (hand-edited, truncated, from another list) is a 422 with the
field's message, never a 500: ``decode`` raises ``ValidationFailed``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

from xobito.kit.errors import ValidationFailed

INVALID = "The cursor is invalid."


def encode(position: dict[str, Any]) -> str:
    raw = orjson.dumps(position)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(value: str, keys: tuple[str, ...], field: str = "cursor") -> dict[str, Any]:
    """The position of ``value``, which must hold exactly ``keys``."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        position = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise ValidationFailed({field: [INVALID]}) from None
    if not isinstance(position, dict) or set(position) != set(keys):
        raise ValidationFailed({field: [INVALID]})
    return position


def int_of(position: dict[str, Any], key: str, field: str = "cursor") -> int:
    value = position[key]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        raise ValidationFailed({field: [INVALID]})
    return value


def time_of(position: dict[str, Any], key: str, field: str = "cursor") -> datetime:
    value = position[key]
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed({field: [INVALID]})
    return parsed
