"""Phone numbers: E.164 normalisation with Google's libphonenumber rules."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import phonenumberutil as _pnu

_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"^\+?\d+$")


def strip_separators(raw: str) -> str:
    return _SEPARATORS.sub("", raw)


def parse(raw: str) -> phonenumbers.PhoneNumber | None:
    """Parse an international number (with or without the leading ``+``)."""
    compact = strip_separators(raw)
    if not _DIGITS.match(compact):
        return None
    digits = compact.removeprefix("+")
    if len(digits) >= _FAST_MIN and digits.isascii():
        return _parse_digits(digits)
    try:
        return phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None


# ``phonenumbers.parse("+" + digits, None)`` for ASCII digits, without the steps that cannot
# change such a string (extracting the number from text, extensions, letters, non-ASCII
# digits): about three times faster, and a bulk import of a million contacts parses a million
# distinct numbers. The steps kept are libphonenumber's own, in its order;
# ``tests/kit/test_phone_fast.py`` holds the two paths equal.
_FAST_MIN = 3  # shorter: libphonenumber's own checks decide (too short after the "+")
_MIN_NSN, _MAX_NSN = 2, 17
_SHORT_RESULTS = (
    _pnu.ValidationResult.TOO_SHORT,
    _pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    _pnu.ValidationResult.INVALID_LENGTH,
)


def _parse_digits(digits: str) -> phonenumbers.PhoneNumber | None:
    country_code, national = _pnu._extract_country_code(digits)
    if country_code == 0:
        return None  # "Country calling code supplied was not recognised."
    region = _pnu.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        country_code, region
    )
    if metadata is None or len(national) < _MIN_NSN:
        return None
    _, stripped, _ = _pnu._maybe_strip_national_prefix_carrier_code(national, metadata)
    if _pnu._test_number_length(stripped, metadata) not in _SHORT_RESULTS:
        national = stripped
    if not _MIN_NSN <= len(national) <= _MAX_NSN:
        return None
    number = phonenumbers.PhoneNumber(country_code=country_code)
    _pnu._set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    return number


@lru_cache(maxsize=65_536)
def to_e164(raw: str) -> str | None:
    """``+`` and digits, or None when the input is not a possible number.

    Memoised: a platform sends to the same numbers again and again, and libphonenumber's
    parse is a measurable share of a send's CPU. (Inputs are at most 32 characters.)"""
    number = parse(raw)
    if number is None or not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
