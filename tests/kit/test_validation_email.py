"""The memoised email check answers exactly what email_validator answers."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xobito.kit.validation import email_valid

LOCAL = st.text(alphabet="aZ09.!#$%&'*+/=?^_`{|}~-\"() é", min_size=0, max_size=70)
LABEL = st.text(alphabet="aZ09-_é", min_size=0, max_size=66)
TLDS = st.sampled_from(["com", "io", "c", "123", "test", "local", "localhost", "arpa", "x1",
                        "invalid", "onion", "xn--p1ai", "ab--cd", ""])  # fmt: skip
DOMAIN = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, max_size=4), TLDS)
EMAIL = st.builds(lambda local, at, domain: local + at + domain, LOCAL,
                  st.sampled_from(["@", "@@", "", " @"]), DOMAIN)  # fmt: skip


def slow(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@settings(max_examples=3000, deadline=None)
@given(EMAIL)
@example("a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com")  # 254 chars
@example("a" * 65 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com")  # 255 chars
@example("a" * 80 + "@example.com")
@example("postmaster@Example.COM")
@example("a..b@example.com")
@example(".a@example.com")
@example("a@-example.com")
@example("a@example..com")
@example("ada@example.com\n")
def test_fast_path_agrees_with_email_validator(value: str) -> None:
    assert email_valid(value) == slow(value), value


ATOM = st.text(alphabet="aZ09!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=20)
SIMPLE_LOCAL = st.builds(".".join, st.lists(ATOM, min_size=1, max_size=4))
HOST_LABEL = st.text(alphabet="az09-", min_size=1, max_size=64)
SIMPLE = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    SIMPLE_LOCAL,
    st.lists(HOST_LABEL, min_size=0, max_size=5),
    TLDS,
)


@settings(max_examples=3000, deadline=None)
@given(SIMPLE)
def test_fast_path_agrees_on_addresses_of_the_common_shape(value: str) -> None:
    assert email_valid(value) == slow(value), value
