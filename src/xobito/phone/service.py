"""Format check with Google's libphonenumber rules (no WhatsApp lookup)."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from phonenumbers import geocoder

from xobito.kit.phone import strip_separators

NOTE = (
    "Format validation only. To verify WhatsApp registration, send a template message "
    "and check response."
)
_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "Invalid country code",
    phonenumbers.ValidationResult.TOO_SHORT: "Number is too short to be valid",
    phonenumbers.ValidationResult.TOO_LONG: "Number is too long to be valid",
    phonenumbers.ValidationResult.INVALID_LENGTH: "Number length is not valid for its country",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "Number is only valid locally",
}


_PARSE_ERRORS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "Invalid country code",
    # Only digits reach the parser, so "not a number" means too few of them (e.g. "+12").
    phonenumbers.NumberParseException.NOT_A_NUMBER: "Number is too short to be valid",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "Number is too short to be valid",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "Number is too short to be valid",
    phonenumbers.NumberParseException.TOO_LONG: "Number is too long to be valid",
}


def _parse(raw: str) -> tuple[phonenumbers.PhoneNumber | None, str]:
    compact = strip_separators(raw)
    if not re.fullmatch(r"\+?\d+", compact):
        return None, "Number contains invalid characters" if compact else "Number is empty"
    try:
        return phonenumbers.parse("+" + compact.lstrip("+"), None), ""
    except phonenumbers.NumberParseException as exc:
        return None, _PARSE_ERRORS.get(exc.error_type, "Number is not valid")


def validate(raw: str) -> tuple[bool, dict[str, Any]]:
    """``(valid, data)`` as ``POST /phone/validate`` reports it."""
    # ASCII digits, whatever script the input's digits were written in (as libphonenumber
    # reads them): "+१४१५…" gives "14155…", the same digits as its e164.
    digits = "".join(str(int(c)) for c in raw if c.isdecimal())
    data: dict[str, Any] = {
        "phone": raw,
        "phone_digits": digits,
        "format_valid": False,
        "country_code": None,
        "country": None,
        "national_number": None,
        "e164": None,
        "reason": None,
        "note": NOTE,
    }
    number, problem = _parse(raw)
    if number is None:
        data["reason"] = problem
        return False, data
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        data["reason"] = _REASONS.get(possible, "Number is not valid")
        return False, data
    if not phonenumbers.is_valid_number(number):
        data["reason"] = "Number is not valid for its country"
        return False, data
    data.update(
        {
            "format_valid": True,
            "country_code": str(number.country_code),
            "country": geocoder.country_name_for_number(number, "en") or None,
            "national_number": str(number.national_number),
            "e164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        }
    )
    return True, data
