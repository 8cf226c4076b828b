"""E.164 normalisation of phone input (docs/api/contacts.md: stored as ``+`` and digits)."""

from __future__ import annotations

import re

import pytest

from xobito.kit.phone import strip_separators, to_e164

E164 = re.compile(r"^\+[0-9]{8,15}$", re.ASCII)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+14155551234", "+14155551234"),
        ("14155551234", "+14155551234"),  # the leading + is optional
        ("+1 415 555 1234", "+14155551234"),
        ("+1-415-555-1234", "+14155551234"),
        ("+1 (415) 555-1234", "+14155551234"),
        ("(+1) 415 555 1234", "+14155551234"),
        ("+1.415.555.1234", "+14155551234"),
        (" +14155551234 ", "+14155551234"),
        ("+1\t415\n555 1234", "+14155551234"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+44 (0)20 7946 0958", "+442079460958"),  # UK trunk 0 dropped
        ("+91 98765 43210", "+919876543210"),
        ("+49 30 123456", "+4930123456"),
        ("+1-415-555-0000", "+14155550000"),
    ],
)
def test_possible_numbers_become_e164(raw: str, expected: str) -> None:
    assert to_e164(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "   ",
        "abc",
        "123",  # too short for any country
        "+1 415 555 12",  # too short for NANP
        "+1 415 555 1234 5",  # too long for NANP
        "+1415555123456789012",  # longer than E.164 allows
        "+1 415 FLOWERS",  # letters are not digits
        "++14155551234",
        "+1/415/555/1234",  # slashes are not separators
        "+14155551234 ext. 5",
        "0014155551234",  # 00 is not a country code
        "\uff0b" + "".join(chr(0xFF10 + int(d)) for d in "14155551234"),  # fullwidth
        "+1 415 555 1234; DROP TABLE contacts",
    ],
)
def test_impossible_numbers_are_refused(raw: str) -> None:
    assert to_e164(raw) is None


def test_non_ascii_digits_are_normalised_to_ascii() -> None:
    # libphonenumber reads Arabic-Indic digits; what we store must still be plain ASCII E.164.
    out = to_e164("+١٤١٥٥٥٥١٢٣٤")
    assert out == "+14155551234"
    assert E164.match(out)


def test_output_is_always_plain_e164() -> None:
    for raw in ("+1 (415) 555-1234", "442079460958", "+91-98765-43210"):
        out = to_e164(raw)
        assert out is not None and E164.match(out), raw


def test_normalisation_is_idempotent() -> None:
    once = to_e164("+44 (0)20 7946 0958")
    assert once is not None
    assert to_e164(once) == once


def test_strip_separators_removes_spaces_dashes_parentheses_and_dots() -> None:
    assert strip_separators(" +1 (415) 555-12.34\t") == "+14155551234"
    assert strip_separators("+1/415") == "+1/415"
