"""Exceptions: one class per HTTP status family, all under :class:`XobitoError`.

>>> from xobito_client.errors import NotFoundError, XobitoError, error_for_status
>>> err = error_for_status(404, {"status": "error", "message": "Contact not found"})
>>> isinstance(err, NotFoundError), isinstance(err, XobitoError)
(True, True)
>>> err.status, err.message
(404, 'Contact not found')
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
    "WebhookVerificationError",
    "XobitoError",
    "error_for_status",
]


class XobitoError(Exception):
    """Base of every error this package raises.

    ``status`` is the HTTP status (``None`` when no response was received), ``message`` the
    server's ``message`` (or a description), ``body`` the decoded response body (a dict for
    JSON, else the text), ``response`` the :class:`httpx.Response` when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.response = response

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.status}: {self.message}"


class APIConnectionError(XobitoError):
    """No response: the connection failed (after the configured retries)."""


class APITimeoutError(APIConnectionError):
    """The request timed out (after the configured retries)."""


class WebhookVerificationError(XobitoError):
    """An outbound-webhook delivery failed signature or timestamp verification."""


class APIStatusError(XobitoError):
    """The server answered with a 4xx/5xx status."""

    status: int

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message, status=status, body=body, response=response)

    @property
    def errors(self) -> Any:
        """The envelope's ``errors`` member (``None`` when absent)."""
        return self.body.get("errors") if isinstance(self.body, dict) else None


class BadRequestError(APIStatusError):
    """400, e.g. an unknown workspace subdomain (``errors`` is then a string)."""


class AuthenticationError(APIStatusError):
    """401: the API token is missing, unknown, inactive or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the token lacks an ability, or a plan limit was reached."""


class NotFoundError(APIStatusError):
    """404: the record (or route) does not exist in this workspace."""


class ConflictError(APIStatusError):
    """409: a request with the same ``Idempotency-Key`` is still in progress."""


class PayloadTooLargeError(APIStatusError):
    """413: the body is over the server's size limit."""


class ValidationError(APIStatusError):
    """422: ``errors`` maps each failing field to its list of messages."""

    @property
    def errors(self) -> dict[str, list[str]]:
        raw = super().errors
        return raw if isinstance(raw, dict) else {}


class RateLimitError(APIStatusError):
    """429: the token's rate limit or monthly quota; ``retry_after`` is in seconds."""

    @property
    def retry_after(self) -> int | None:
        return retry_after_of(self.body, self.response)


class ServerError(APIStatusError):
    """5xx: the server failed (for a send, Meta's refusal is in ``errors["whatsapp"]``)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
}


def retry_after_of(body: Any, response: httpx.Response | None) -> int | None:
    """``retry_after`` from the JSON body, else the ``Retry-After`` header (seconds)."""
    if isinstance(body, dict):
        value = body.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    if response is not None:
        header = response.headers.get("retry-after", "")
        if header.strip().isdigit():
            return int(header)
    return None


def error_for_status(
    status: int, body: Any, response: httpx.Response | None = None
) -> APIStatusError:
    """The exception for an error response (``body`` already decoded)."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message:
        message = response.reason_phrase if response is not None else ""
        message = message or f"HTTP {status}"
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIStatusError)
    return cls(message, status=status, body=body, response=response)
