"""Errors raised by WhatsApp providers, classified for retry decisions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Meta error codes worth retrying: throttling (4 app-level, 80007 WABA-level, 130429 throughput,
# 131056 pair rate limit) and transient server-side failures (1 unknown, 2 service unavailable,
# 131000 "something went wrong", 133004 server temporarily unavailable). Everything else in the
# 4xx range is a problem with the request, the recipient or the credentials; retrying it cannot
# help and would only burn rate limit.
RETRYABLE_CODES: frozenset[int] = frozenset({1, 2, 4, 80007, 130429, 131000, 131056, 133004})
THROTTLING_CODES: frozenset[int] = frozenset({4, 80007, 130429, 131056})

_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")


def is_retryable(code: int | None, http_status: int | None) -> bool:
    """Retry throttling and server-side failures; a 4xx with any other code is final."""
    if code is not None and code in RETRYABLE_CODES:
        return True
    if http_status is None:
        return code is None  # no HTTP answer at all: a network failure
    return http_status == 429 or http_status >= 500


class WhatsAppError(Exception):
    """A send/upload/list call that Meta (or the network) refused.

    ``str(error)`` is ``"<code>: <message>"`` (``code`` is ``None`` for network errors), the form
    the API reports in ``errors.whatsapp``. ``message`` has Meta's redundant ``"(#code) "``
    prefix removed; ``raw`` keeps Meta's error body untouched.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        title: str | None = None,
        http_status: int | None = None,
        details: str | None = None,
        retryable: bool | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.title = title or message
        self.http_status = http_status
        self.details = details
        self.retryable = is_retryable(code, http_status) if retryable is None else retryable
        self.raw: dict[str, Any] = dict(raw) if raw is not None else {}
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def describe(self) -> str:
        """``"<Meta code>: <Meta message>"``; just the message without a code (network)."""
        return str(self) if self.code is not None else self.message

    def __repr__(self) -> str:
        return (
            f"WhatsAppError(code={self.code!r}, http_status={self.http_status!r}, "
            f"retryable={self.retryable!r}, message={self.message!r})"
        )

    @classmethod
    def from_response(cls, http_status: int, body: object) -> WhatsAppError:
        """Map a Graph API error response (any shape, even non-JSON) to an error."""
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            snippet = body if isinstance(body, str) else repr(body)
            return cls(f"HTTP {http_status}: {snippet[:200]}", http_status=http_status)
        raw_code = error.get("code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        raw_message = str(error.get("message") or f"HTTP {http_status}")
        message = _CODE_PREFIX.sub("", raw_message) or raw_message
        error_data = error.get("error_data")
        details = error_data.get("details") if isinstance(error_data, Mapping) else None
        title = error.get("error_user_title") or error.get("title")
        return cls(
            message,
            code=code,
            title=str(title) if title else None,
            http_status=http_status,
            details=str(details) if details is not None else None,
            raw=body if isinstance(body, Mapping) else None,
        )

    @classmethod
    def network(cls, exc: BaseException) -> WhatsAppError:
        """A failure before any HTTP answer (connect refused, reset, timeout)."""
        text = str(exc) or type(exc).__name__
        return cls(f"Network error talking to the Graph API: {text}", retryable=True)
