"""Opaque cursors of keyset pages: the last id seen, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii

import orjson

from xobito.kit.errors import ValidationFailed

INVALID = "The cursor is invalid."
START = "start"  # the first page (an empty value means "not given", as for every parameter)


def encode(after_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"after": after_id})).decode().rstrip("=")


def decode(cursor: str, *, field: str = "cursor", max_id: int = 2**31 - 1) -> int:
    """The id a cursor continues after (``start``: the beginning); else the spec's 422
    naming ``field``."""
    if cursor == START:
        return 0
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise ValidationFailed({field: [INVALID]}) from None
    after = value.get("after") if isinstance(value, dict) else None
    if type(after) is not int or not 0 <= after <= max_id:
        raise ValidationFailed({field: [INVALID]})
    return after
