"""What the sync and async clients share: building requests, deciding retries, parsing answers.

An :class:`Operation` describes one logical API call (method, path, body, how to read the
answer). :class:`ClientCore` turns it into one :class:`httpx.Request` -- built once, so every
retry sends the same bytes and the same ``Idempotency-Key`` -- and interprets each answer:
either a delay before the next attempt, or the parsed result / the exception. The sync and
async clients only add the loop that sends and sleeps.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
from pydantic import BaseModel

from xobito_client._version import __version__
from xobito_client.errors import (
    APIConnectionError,
    APITimeoutError,
    XobitoError,
    error_for_status,
    retry_after_of,
)
from xobito_client.models import Page

log = logging.getLogger("xobito_client")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 60.0
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Errors after which the request may be sent again. A POST is safe to resend: it carries the
# same Idempotency-Key, so a request the server did complete is replayed, not redone.
RETRY_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

FilePart = tuple[str, tuple[str, bytes, str]]


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One logical call: ``path`` is relative to ``/api/v1/{subdomain}``."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None  # multipart fields (with ``files``)
    files: Sequence[FilePart] | None = None
    idempotency_key: str | None = None


def new_idempotency_key() -> str:
    return f"xobito-{uuid.uuid4()}"


def decode_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return response.text


def next_page(op: Operation[Page[M]], page: Page[M]) -> Operation[Page[M]] | None:
    """The call for the page after ``page``, following its ``next_page_url``.

    The URL's query (page, per_page, filters) is kept; its host and path are not, so the
    client stays on its own base URL (a proxy, or ``XOBITO_PUBLIC_URL``, may differ).
    """
    if page.next_page_url is None or not page.data:
        return None
    params = dict(parse_qsl(urlsplit(page.next_page_url).query, keep_blank_values=True))
    params.setdefault("page", str(page.current_page + 1))
    return replace(op, params=params)


class ClientCore:
    """Configuration and the request/response logic both clients run."""

    def __init__(
        self,
        *,
        base_url: str,
        subdomain: str,
        token: str,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required, e.g. 'https://xobito.example.com'")
        if not subdomain:
            raise ValueError("subdomain is required")
        if not token:
            raise ValueError("token is required (an 'apitk_...' API token)")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.subdomain = subdomain
        self.token = token
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.api_root = f"{self.base_url}/api/v1/{quote(subdomain, safe='')}"
        self.headers = {
            "Accept": "application/json",
            "User-Agent": f"xobito-client-python/{__version__}",
            **(headers or {}),
            "Authorization": f"Bearer {token}",
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, subdomain={self.subdomain!r})"

    # ---- requests ------------------------------------------------------------------------------

    def build_request(
        self, http: httpx.Client | httpx.AsyncClient, op: Operation[Any]
    ) -> httpx.Request:
        """The one request of ``op``; its body is read into memory so retries resend it."""
        headers = dict(self.headers)
        if op.method == "POST":
            headers["Idempotency-Key"] = op.idempotency_key or new_idempotency_key()
        request = http.build_request(
            op.method,
            self.api_root + op.path,
            params=_query(op.params),
            json=op.json,
            data=op.data,
            files=op.files,
            headers=headers,
        )
        request.read()  # a multipart body (random boundary) is fixed here, once
        return request

    # ---- retries -------------------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: ~0.5 s, 1 s, 2 s... at most 8 s, minus up to 25 %."""
        delay = min(INITIAL_BACKOFF * 2.0**attempt, MAX_BACKOFF)
        return delay * (1 - 0.25 * random.random())

    def retry_after_response(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before sending again, or ``None`` when this answer is final."""
        if attempt >= self.max_retries:
            return None
        if response.headers.get("idempotent-replayed", "").lower() == "true":
            return None  # the stored outcome of a completed request: retrying replays it again
        status = response.status_code
        if status == 429:
            wait = retry_after_of(decode_body(response), response)
            if wait is None:
                return self.backoff(attempt)
            return float(wait) if wait <= self.max_retry_wait else None
        if status == 409 and "idempotency-key" in response.request.headers:
            return self.backoff(attempt)  # the same key is still being worked on
        if status in RETRY_STATUSES:
            wait = retry_after_of(None, response)
            if wait is not None and wait <= self.max_retry_wait:
                return float(wait)
            return self.backoff(attempt)
        return None

    def retry_after_error(self, error: Exception, attempt: int) -> float | None:
        if attempt >= self.max_retries or not isinstance(error, RETRY_ERRORS):
            return None
        return self.backoff(attempt)

    def log_retry(self, request: httpx.Request, reason: str, delay: float, attempt: int) -> None:
        log.info(
            "retrying %s %s after %s in %.2f s (retry %d of %d)",
            request.method,
            request.url.path,
            reason,
            delay,
            attempt + 1,
            self.max_retries,
        )

    # ---- answers -------------------------------------------------------------------------------

    @staticmethod
    def parse(op: Operation[T], response: httpx.Response, *, resent: bool = False) -> T:
        """The result, or the exception for an error answer. ``resent``: an earlier attempt
        got no answer, so it may have done the work: a DELETE then finding nothing succeeded."""
        body = decode_body(response)
        if response.is_success:
            return op.parse(body)
        if resent and op.method == "DELETE" and response.status_code == 404:
            return op.parse(None)
        raise error_for_status(response.status_code, body, response)

    @staticmethod
    def connection_error(error: Exception) -> XobitoError:
        if isinstance(error, httpx.TimeoutException):
            return APITimeoutError(f"Request timed out: {error!r}")
        return APIConnectionError(f"Connection error: {error!r}")


def _query(params: Mapping[str, Any] | None) -> dict[str, str | int] | None:
    if not params:
        return None
    out: dict[str, str | int] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
