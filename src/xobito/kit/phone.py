"""Phone numbers: E.164 normalisation with Google's libphonenumber rules."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"^\+?\d+$")


def strip_separators(raw: str) -> str:
    return _SEPARATORS.sub("", raw)


def parse(raw: str) -> phonenumbers.PhoneNumber | None:
    """Parse an international number (with or without the leading ``+``)."""
    compact = strip_separators(raw)
    if not _DIGITS.match(compact):
        return None
    if not compact.startswith("+"):
        compact = "+" + compact
    try:
        return phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=65_536)
def to_e164(raw: str) -> str | None:
    """``+`` and digits, or None when the input is not a possible number.

    Memoised: a platform sends to the same numbers again and again, and libphonenumber's
    parse is a measurable share of a send's CPU. (Inputs are at most 32 characters.)"""
    number = parse(raw)
    if number is None or not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
