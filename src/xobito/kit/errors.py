"""Exceptions that carry the spec's error envelope. Mapped to responses in ``kit.handlers``."""

from __future__ import annotations

from typing import Any


class XobitoError(Exception):
    """An error answered with ``{"status": "error", "message": ...}``."""

    status_code = 500

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code

    def body(self) -> dict[str, Any]:
        return {"status": "error", "message": self.message}

    def headers(self) -> dict[str, str] | None:
        return None


class BadRequest(XobitoError):
    status_code = 400


class Unauthorized(XobitoError):
    status_code = 401


class Forbidden(XobitoError):
    status_code = 403


class NotFound(XobitoError):
    status_code = 404


class Conflict(XobitoError):
    status_code = 409


class PayloadTooLarge(XobitoError):
    status_code = 413


class InvalidSubdomain(XobitoError):
    """docs/api/authentication.md step 1: ``errors`` is a plain string here, unlike every other
    validation error."""

    status_code = 400

    def __init__(self) -> None:
        super().__init__("Validation failed")

    def body(self) -> dict[str, Any]:
        return {"status": "error", "message": self.message, "errors": "Invalid tenant subdomain"}


class ValidationFailed(XobitoError):
    status_code = 422

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("Validation failed")
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"status": "error", "message": self.message, "errors": self.errors}


class ServerBusy(XobitoError):
    """The database had no connection free for the request in time (the pool's wait ran
    out, or PostgreSQL refused more connections): an overload, not a fault of the request,
    so it is answered as retryable, with ``Retry-After``, instead of as a 500."""

    status_code = 503
    RETRY_AFTER = 2

    def __init__(self) -> None:
        super().__init__("The server is busy. Retry the request in a few seconds.")

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.RETRY_AFTER)}


class TooManyRequests(XobitoError):
    """429 bodies have no ``status`` key (docs/api/authentication.md steps 4 and 5)."""

    status_code = 429

    def __init__(self, message: str, retry_after: int, limit: int, remaining: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit
        self.remaining = remaining

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {
            "Retry-After": str(self.retry_after),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
        }


class UnexpectedFailure(XobitoError):
    """A failure we did not foresee, reported as ``Failed to <action>``."""

    status_code = 500


class UpstreamFailure(XobitoError):
    """Meta refused or failed: 500 with what it said, as a refused send answers
    (docs/api/messages.md)."""

    status_code = 500

    def __init__(self, message: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"status": "error", "message": self.message, "errors": self.errors}


class ReplayResponse(Exception):
    """Raised to answer with a stored idempotent response instead of doing the work again."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__("idempotent replay")
        self.status_code = status_code
        self.body = body
