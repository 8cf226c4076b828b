"""Meta error responses map to WhatsAppError with the right retry classification."""

from __future__ import annotations

import pytest

from xobito.testing.meta_errors import default_http_status, meta_error_body
from xobito.whatsapp import WhatsAppError, is_retryable


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (130429, True),
        (131056, True),
        (131000, True),
        (4, True),
        (80007, True),
        (131047, False),
        (131026, False),
        (132000, False),
        (100, False),
        (190, False),
    ],
)
def test_meta_codes_classified(code: int, retryable: bool) -> None:
    error = WhatsAppError.from_response(default_http_status(code), meta_error_body(code))
    assert error.code == code
    assert error.retryable is retryable


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        (None, 429, True),
        (None, 500, True),
        (None, 503, True),
        (None, 404, False),
        (None, None, True),  # no HTTP answer at all: network failure
        (131026, 500, True),  # a 5xx is always worth another try
        (999999, 400, False),  # unknown 4xx code
        (130429, 400, True),  # Meta throttles with HTTP 400: the code decides
    ],
)
def test_http_status_classified(code: int | None, status: int | None, retryable: bool) -> None:
    assert is_retryable(code, status) is retryable


def test_fields_and_str_form() -> None:
    error = WhatsAppError.from_response(400, meta_error_body(131026))
    assert str(error) == "131026: Message undeliverable"  # Meta's "(#131026) " prefix removed
    assert error.title == "Message undeliverable"
    assert error.http_status == 400
    assert error.details is not None and "WhatsApp user" in error.details
    assert error.raw["error"]["code"] == 131026
    assert "retryable=False" in repr(error)


def test_auth_error_message_kept_verbatim() -> None:
    error = WhatsAppError.from_response(401, meta_error_body(190))
    assert str(error) == "190: Invalid OAuth access token - Cannot parse access token"
    assert error.details is None and not error.retryable


@pytest.mark.parametrize("body", ["<html>Bad Gateway</html>", {"unexpected": True}, None, [1]])
def test_non_meta_bodies(body: object) -> None:
    error = WhatsAppError.from_response(502, body)
    assert error.code is None and error.http_status == 502 and error.retryable
    assert str(error).startswith("None: HTTP 502")


def test_network_error() -> None:
    error = WhatsAppError.network(ConnectionRefusedError("refused"))
    assert error.code is None and error.http_status is None and error.retryable
    assert "refused" in str(error)


def test_retryable_can_be_forced() -> None:
    assert not WhatsAppError("x", http_status=500, retryable=False).retryable
