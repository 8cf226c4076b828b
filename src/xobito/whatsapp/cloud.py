"""Meta Cloud API provider: one pooled aiohttp session per process, retries with backoff."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import orjson
import structlog

from xobito.whatsapp.base import ConnectionInfo, SendResult
from xobito.whatsapp.errors import WhatsAppError
from xobito.whatsapp.media import MediaInfo, MediaTooLarge, may_receive_token, parse_media_info

log = structlog.get_logger("xobito.whatsapp")

DEFAULT_BASE_URL = "https://graph.facebook.com/v23.0"
T = TypeVar("T")

# Guards against a server that keeps handing out "next" pages forever.
_MAX_TEMPLATE_PAGES = 1000
_MAX_NUMBER_PAGES = 100
# What a template sync reads: Meta's defaults plus the template's quality score.
TEMPLATE_FIELDS = (
    "id",
    "name",
    "language",
    "status",
    "category",
    "parameter_format",
    "components",
    "quality_score",
)
# What the connection doctor reads of a WABA's numbers (fields of Meta's
# WhatsAppBusinessAccountPhoneNumber).
NUMBER_FIELDS = (
    "id",
    "display_phone_number",
    "verified_name",
    "status",
    "quality_rating",
    "messaging_limit_tier",
    "account_mode",
    "code_verification_status",
)


class CloudProvider:
    """``WhatsAppProvider`` over Meta's Graph API.

    Create one per process and share it: the ``aiohttp.ClientSession`` (connection pool,
    keep-alive) is created lazily on first use inside the running event loop and must be
    released with ``await provider.close()``.

    Retryable failures (throttling, 5xx, network; see ``errors.is_retryable``) are retried up to
    ``max_attempts`` in total, sleeping ``base_delay * 2**n`` (capped at ``max_delay``) with
    "equal jitter" so that concurrent senders hitting a throttle do not retry in lockstep.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        max_attempts: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        connector_limit: int = 1000,
        keepalive_timeout: float = 30.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._connector_limit = connector_limit
        self._keepalive_timeout = keepalive_timeout
        self._session: aiohttp.ClientSession | None = None

    # ---- session ---------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        # No await between the check and the assignment, so concurrent first calls cannot
        # create two sessions.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connector_limit,
                limit_per_host=0,  # all traffic goes to one host; `limit` is the real bound
                keepalive_timeout=self._keepalive_timeout,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                headers={"Accept": "application/json"},
            )
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> CloudProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- plumbing --------------------------------------------------------------------------

    def backoff_delay(self, attempt: int) -> float:
        """Sleep before retry number ``attempt`` (1-based): half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 1
        while True:
            try:
                return await call()
            except WhatsAppError as exc:
                if not exc.retryable or attempt >= self.max_attempts:
                    raise
            await asyncio.sleep(self.backoff_delay(attempt))
            attempt += 1

    @staticmethod
    def _auth(conn: ConnectionInfo) -> dict[str, str]:
        return {"Authorization": f"Bearer {conn.access_token}"}

    async def _request(
        self,
        method: str,
        url: str,
        conn: ConnectionInfo,
        *,
        json: Any = None,
        data: aiohttp.FormData | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One HTTP exchange; any failure becomes a classified ``WhatsAppError``."""
        body: bytes | None = None
        headers = self._auth(conn)
        if json is not None:
            body = orjson.dumps(json)
            headers["Content-Type"] = "application/json"
        try:
            async with self._get_session().request(
                method,
                url,
                data=body if body is not None else data,
                params=params,
                headers=headers,
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WhatsAppError.network(exc) from exc
        try:
            parsed: Any = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            parsed = raw.decode(errors="replace")
        if status >= 400 or not isinstance(parsed, dict):
            raise WhatsAppError.from_response(status, parsed)
        if "error" in parsed:  # Graph occasionally reports errors with a 200
            raise WhatsAppError.from_response(status, parsed)
        return parsed

    # ---- WhatsAppProvider ------------------------------------------------------------------

    async def send_message(self, conn: ConnectionInfo, payload: dict[str, Any]) -> SendResult:
        url = f"{self.base_url}/{conn.phone_number_id}/messages"
        response = await self._with_retries(lambda: self._request("POST", url, conn, json=payload))
        messages = response.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        if not isinstance(first, dict) or not isinstance(first.get("id"), str):
            raise WhatsAppError(
                f"Graph API accepted the message but returned no message id: {response!r:.200}",
                http_status=200,
                retryable=False,
                raw=response,
            )
        contacts = response.get("contacts")
        contact = contacts[0] if isinstance(contacts, list) and contacts else {}
        wa_id = contact.get("wa_id") if isinstance(contact, dict) else None
        status = first.get("message_status")
        return SendResult(
            wamid=first["id"],
            wa_id=wa_id if isinstance(wa_id, str) else None,
            raw=response,
            message_status=status if isinstance(status, str) else None,
        )

    async def upload_media(
        self, conn: ConnectionInfo, data: bytes, mime_type: str, filename: str
    ) -> str:
        url = f"{self.base_url}/{conn.phone_number_id}/media"

        def form() -> aiohttp.FormData:
            # A FormData is consumed by sending it; every retry needs a fresh one.
            fd = aiohttp.FormData()
            fd.add_field("messaging_product", "whatsapp")
            fd.add_field("type", mime_type)
            fd.add_field("file", data, filename=filename, content_type=mime_type)
            return fd

        response = await self._with_retries(lambda: self._request("POST", url, conn, data=form()))
        media_id = response.get("id")
        if not isinstance(media_id, str | int) or isinstance(media_id, bool):
            raise WhatsAppError(
                "Graph API returned no media id", http_status=200, retryable=False, raw=response
            )
        return str(media_id)

    async def mark_read(self, conn: ConnectionInfo, wamid: str) -> None:
        """Tell Meta a customer's message (and those before it) was read: the blue ticks."""
        url = f"{self.base_url}/{conn.phone_number_id}/messages"
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        await self._with_retries(lambda: self._request("POST", url, conn, json=body))

    # ---- inbound media (MediaSource) -------------------------------------------------------

    async def media_info(self, conn: ConnectionInfo, media_id: str) -> MediaInfo:
        url = f"{self.base_url}/{media_id}"
        return parse_media_info(await self._with_retries(lambda: self._request("GET", url, conn)))

    async def download_media(self, conn: ConnectionInfo, url: str, max_bytes: int) -> bytes:
        """The bytes at Meta's media URL, read no further than ``max_bytes``."""
        if not may_receive_token(url, self.base_url):
            # The URL is Meta's answer: logged, never shown (the page must not hold it).
            log.warning("media_url_refused", url=url[:200])
            raise WhatsAppError("Meta's media address is not one of Meta's hosts.", retryable=False)
        headers = {**self._auth(conn), "Accept": "*/*"}
        try:
            async with self._get_session().get(url, headers=headers) as resp:
                if resp.status >= 400:
                    raw = await resp.read()
                    try:
                        parsed: Any = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        parsed = raw[:200].decode(errors="replace")
                    raise WhatsAppError.from_response(resp.status, parsed)
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise MediaTooLarge(max_bytes, resp.content_length)
                chunks: list[bytes] = []
                total = 0
                async for chunk in resp.content.iter_chunked(65536):
                    total += len(chunk)
                    if total > max_bytes:
                        raise MediaTooLarge(max_bytes)
                    chunks.append(chunk)
                return b"".join(chunks)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WhatsAppError.network(exc) from exc

    async def list_templates(
        self, conn: ConnectionInfo, *, page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Every template of the WABA. Follows the ``after`` cursor while ``paging.next`` exists.

        The cursor is sent to our own ``base_url`` instead of fetching ``paging.next`` verbatim:
        same result, and the bearer token never goes to a host taken from a response body.
        """
        url = f"{self.base_url}/{conn.waba_id}/message_templates"
        params = {"fields": ",".join(TEMPLATE_FIELDS), "limit": str(page_size)}
        return await self._all_pages(url, conn, params, _MAX_TEMPLATE_PAGES, "template listing")

    # ---- connection checks (the doctor) ----------------------------------------------------

    async def phone_number(self, conn: ConnectionInfo, phone_number_id: str) -> dict[str, Any]:
        """``GET /{Phone-Number-ID}``: the number's default fields (id, display number,
        verified name, quality rating), as the token sees them."""
        url = f"{self.base_url}/{phone_number_id}"
        return await self._with_retries(lambda: self._request("GET", url, conn))

    async def waba_phone_numbers(self, conn: ConnectionInfo) -> list[dict[str, Any]]:
        """``GET /{WABA-ID}/phone_numbers``: every number of the WABA (all cursor pages)
        with ``NUMBER_FIELDS``."""
        url = f"{self.base_url}/{conn.waba_id}/phone_numbers"
        params = {"fields": ",".join(NUMBER_FIELDS), "limit": "100"}
        return await self._all_pages(url, conn, params, _MAX_NUMBER_PAGES, "number listing")

    async def subscribed_apps(self, conn: ConnectionInfo) -> list[dict[str, Any]]:
        """``GET /{WABA-ID}/subscribed_apps``: the apps receiving the WABA's webhooks, each
        ``{"id", "name"}`` (Meta nests them in ``whatsapp_business_api_data``)."""
        url = f"{self.base_url}/{conn.waba_id}/subscribed_apps"
        page = await self._with_retries(lambda: self._request("GET", url, conn))
        apps: list[dict[str, Any]] = []
        data = page.get("data")
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict):
                continue
            nested = item.get("whatsapp_business_api_data")
            app = nested if isinstance(nested, dict) else item
            if app.get("id") is not None:
                apps.append({"id": str(app["id"]), "name": app.get("name")})
        return apps

    async def _all_pages(
        self,
        url: str,
        conn: ConnectionInfo,
        params: dict[str, str],
        max_pages: int,
        what: str = "listing",
    ) -> list[dict[str, Any]]:
        """Follows the ``after`` cursor (on our own base URL) while ``paging.next`` exists."""
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(max_pages):
            fetch = functools.partial(self._request, "GET", url, conn, params=dict(params))
            page = await self._with_retries(fetch)
            data = page.get("data")
            if isinstance(data, list):
                items.extend(t for t in data if isinstance(t, dict))
            paging = page.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not paging.get("next") or not isinstance(after, str) or after in seen:
                return items
            seen.add(after)
            params["after"] = after
        raise WhatsAppError(f"{what} exceeded {max_pages} pages", retryable=False)
