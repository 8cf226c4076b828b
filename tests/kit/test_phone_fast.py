"""The fast parse of ``+`` and ASCII digits answers exactly what libphonenumber answers."""

from __future__ import annotations

import phonenumbers
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xobito.kit.phone import parse, to_e164

# Calling codes with their quirks: national prefixes stripped after the code (UK, Russia,
# Argentina's 9 and 15), Italian leading zeros, shared codes (NANP, 7, 262), non-geographic
# codes (800, 808, 870, 878, 881-883, 888, 979), and codes of one, two and three digits.
CODES = st.sampled_from([
    "", "1", "7", "20", "27", "33", "39", "44", "49", "52", "54", "55", "61", "62", "81",
    "86", "91", "225", "242", "262", "351", "380", "599", "800", "808", "870", "878", "881",
    "882", "883", "888", "979", "998", "0", "00",
])  # fmt: skip
DIGITS = st.text(alphabet="0123456789", min_size=0, max_size=19)


def slow(digits: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None


@settings(max_examples=5000, deadline=None)
@given(CODES, DIGITS)
@example("39", "0612345678")  # Italy keeps its leading zero
@example("44", "07911123456")  # the UK trunk 0 after +44 is dropped
@example("54", "91123456789")  # Argentina's mobile 9
@example("1", "2")  # too short
@example("882", "1")
@example("", "123")  # no country has code 123... or 12, or 1 with nothing after
@example("1", "4155551234567890123")  # longer than any number
def test_fast_path_agrees_with_libphonenumber(code: str, rest: str) -> None:
    digits = code + rest
    assert parse("+" + digits) == slow(digits), digits
    assert parse(digits) == slow(digits), digits


def test_to_e164_still_answers_the_same() -> None:
    assert to_e164("+44 (0)20 7946 0958") == "+442079460958"
    assert to_e164("+390612345678") == "+390612345678"
    assert to_e164("+1 415 555 12") is None
