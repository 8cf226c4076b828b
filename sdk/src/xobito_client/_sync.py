"""The synchronous client: :class:`Client` and its resources (a thin layer over ``_core``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar, Unpack

import httpx
from pydantic import BaseModel

from xobito_client import _campaigns as campaign_ops
from xobito_client import _chats
from xobito_client import _operations as ops
from xobito_client._core import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_TIMEOUT,
    ClientCore,
    Operation,
    next_page,
)
from xobito_client.models import (
    Campaign,
    CampaignRecipient,
    Contact,
    Group,
    MessageStatus,
    Page,
    PhoneValidation,
    RecipientPage,
    SentMessage,
    Source,
    Status,
    Template,
    Timeline,
)
from xobito_client.types import (
    ContactCreateParams,
    ContactFilters,
    ContactUpdateParams,
    FileInput,
    InteractiveOptions,
    MediaOptions,
    MediaType,
    ReplyButton,
    SendOptions,
    TemplateOptions,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

__all__ = ["Client"]


class Client(ClientCore):
    """Synchronous client of one workspace.

    ``transport`` (an :class:`httpx.BaseTransport`) or a ready ``http_client`` may be injected
    (tests, proxies, custom TLS); an injected client is not closed by :meth:`close`.
    ``sleep`` is what waits between retries.

    >>> with Client(BASE_URL, SUBDOMAIN, TOKEN) as client:
    ...     source = client.sources.create("Website")
    ...     status = client.statuses.create("Qualified", color="#00aa00")
    ...     contact = client.contacts.create(
    ...         firstname="Ada", phone="+1 (415) 555-0100", type="lead",
    ...         source_id=source.id, status_id=status.id, groups=["VIP"],
    ...     )
    ...     print(contact.phone, [c.firstname for c in client.contacts.iter()])
    +14155550100 ['Ada']
    """

    def __init__(
        self,
        base_url: str,
        subdomain: str,
        token: str,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        limits: httpx.Limits | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            base_url=base_url,
            subdomain=subdomain,
            token=token,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            headers=headers,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            transport=transport, timeout=timeout, limits=limits or httpx.Limits()
        )
        self._sleep = sleep
        self.contacts = Contacts(self)
        self.statuses = Statuses(self)
        self.sources = Sources(self)
        self.groups = Groups(self)
        self.templates = Templates(self)
        self.messages = Messages(self)
        self.chats = _chats.Chats(self)
        self.phone = Phone(self)
        self.campaigns = Campaigns(self)

    def request(self, op: Operation[T]) -> T:
        """Send ``op`` (retrying as configured) and parse the answer."""
        request = self.build_request(self._http, op)
        attempt = 0
        resent = False  # an earlier attempt got no answer (it may have reached the server)
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = self.retry_after_error(exc, attempt)
                if delay is None:
                    raise self.connection_error(exc) from exc
                reason = type(exc).__name__
                resent = True
            else:
                delay = self.retry_after_response(response, attempt)
                if delay is None:
                    return self.parse(op, response, resent=resent)
                response.close()
                reason = str(response.status_code)
            self.log_retry(request, reason, delay, attempt)
            self._sleep(delay)
            attempt += 1

    def pages(self, op: Operation[Page[M]]) -> Iterator[Page[M]]:
        current: Operation[Page[M]] | None = op
        while current is not None:
            page = self.request(current)
            yield page
            current = next_page(current, page)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class _Readable(_Resource, Generic[M]):
    _crud: ops.Crud[M]

    def list(self, *, page: int | None = None, per_page: int | None = None) -> Page[M]:
        """One page (``page`` is 1-based; ``per_page`` 1-100, default 15)."""
        return self._client.request(self._crud.list(page, per_page))

    def iter(self, *, per_page: int | None = None) -> Iterator[M]:
        """Every record, page after page (following ``next_page_url``)."""
        for page in self._client.pages(self._crud.list(None, per_page)):
            yield from page.data

    def get(self, record_id: int) -> M:
        return self._client.request(self._crud.get(record_id))


class _Writable(_Readable[M]):
    def delete(self, record_id: int) -> None:
        self._client.request(self._crud.delete(record_id))


class Contacts(_Writable[Contact]):
    _crud = ops.Crud("contacts", Contact)

    def list(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        **filters: Unpack[ContactFilters],
    ) -> Page[Contact]:
        """One page; filters: ``search``, ``type``, ``status_id``, ``source_id``, ``group_id``,
        ``is_opted_out``."""
        return self._client.request(self._crud.list(page, per_page, filters))

    def iter(
        self, *, per_page: int | None = None, **filters: Unpack[ContactFilters]
    ) -> Iterator[Contact]:
        for page in self._client.pages(self._crud.list(None, per_page, filters)):
            yield from page.data

    def create(
        self, *, idempotency_key: str | None = None, **params: Unpack[ContactCreateParams]
    ) -> Contact:
        return self._client.request(self._crud.create(ops.contact_body(params), idempotency_key))

    def update(self, contact_id: int, **params: Unpack[ContactUpdateParams]) -> Contact:
        return self._client.request(self._crud.update(contact_id, ops.contact_body(params)))


class Statuses(_Writable[Status]):
    _crud = ops.Crud("statuses", Status)

    def create(
        self,
        name: str,
        *,
        color: str | None = None,
        isdefault: bool | None = None,
        idempotency_key: str | None = None,
    ) -> Status:
        body = ops.status_body(name, color, isdefault)
        return self._client.request(self._crud.create(body, idempotency_key))

    def update(
        self, status_id: int, name: str, *, color: str | None = None, isdefault: bool | None = None
    ) -> Status:
        body = ops.status_body(name, color, isdefault)
        return self._client.request(self._crud.update(status_id, body))


class _Named(_Writable[M]):
    def create(self, name: str, *, idempotency_key: str | None = None) -> M:
        return self._client.request(self._crud.create({"name": name}, idempotency_key))

    def update(self, record_id: int, name: str) -> M:
        return self._client.request(self._crud.update(record_id, {"name": name}))


class Sources(_Named[Source]):
    _crud = ops.Crud("sources", Source)


class Groups(_Named[Group]):
    _crud = ops.Crud("groups", Group)


class Templates(_Readable[Template]):
    """Read-only: templates are synchronised from Meta by the server."""

    _crud = ops.Crud("templates", Template)


class Messages(_Resource):
    def send_text(
        self, phone_number: str, message_body: str, **options: Unpack[SendOptions]
    ) -> SentMessage:
        """Send a free-form text (inside the 24-hour customer care window).

        The recipient's contact is found by phone or created (``contact={...}`` fills or
        updates it). Raises :class:`~xobito_client.ValidationError` when the window is closed
        or the recipient opted out, :class:`~xobito_client.ServerError` when Meta refuses.
        """
        return self._client.request(ops.send_text(phone_number, message_body, options))

    def send_interactive(
        self,
        phone_number: str,
        message_body: str,
        buttons: Sequence[ReplyButton],
        **options: Unpack[InteractiveOptions],
    ) -> SentMessage:
        """Send up to three reply buttons (``[{"id": "yes", "title": "Yes"}, ...]``)."""
        op = ops.send_interactive(phone_number, message_body, list(buttons), options)
        return self._client.request(op)

    def send_cta_url(
        self,
        phone_number: str,
        message_body: str,
        button_text: str,
        button_url: str,
        **options: Unpack[InteractiveOptions],
    ) -> SentMessage:
        """Send a call-to-action URL button (``button_text`` up to 20 characters)."""
        op = ops.send_cta_url(phone_number, message_body, button_text, button_url, options)
        return self._client.request(op)

    def send_template(
        self,
        phone_number: str,
        template_name: str,
        template_language: str,
        **options: Unpack[TemplateOptions],
    ) -> SentMessage:
        """Send an approved template (allowed outside the care window).

        ``body_params`` fill ``{{1}}``, ``{{2}}``...; ``header_param`` the text header;
        ``button_params`` the dynamic buttons; header media by URL or by file upload
        (``header_image_file=("banner.png", data)``, sent as multipart).
        """
        op = ops.send_template(phone_number, template_name, template_language, options)
        return self._client.request(op)

    def send_media(
        self, phone_number: str, media_type: MediaType, **options: Unpack[MediaOptions]
    ) -> SentMessage:
        """Send an image, document, video or audio by ``media_url`` or by ``file`` upload."""
        return self._client.request(ops.send_media(phone_number, media_type, options))

    def status(self, message_id: str) -> MessageStatus:
        """The delivery status of a sent message (by its ``wamid``)."""
        return self._client.request(ops.message_status(message_id))

    def timeline(self, message_id: str | int) -> Timeline:
        """Everything that happened to a message, in order (by wamid, or by its id)."""
        return self._client.request(_chats.timeline(message_id))


class Phone(_Resource):
    def validate(self, phone_number: str) -> PhoneValidation:
        """Format check only (libphonenumber rules); always answers for a string."""
        return self._client.request(ops.phone_validate(phone_number))


class Campaigns(_Resource):
    """Campaigns (beyond Xobito's v1): template broadcasts paced per sending number."""

    def create(
        self,
        body: Mapping[str, Any],
        *,
        csv_file: FileInput | None = None,
        idempotency_key: str | None = None,
    ) -> Campaign:
        """Create a campaign; with ``csv_file`` the audience is the file's rows."""
        return self._client.request(campaign_ops.create(body, csv_file, idempotency_key))

    def list(
        self, *, page: int | None = None, per_page: int | None = None, state: str | None = None
    ) -> Page[Campaign]:
        return self._client.request(campaign_ops.listing(page, per_page, state))

    def get(self, campaign_id: int) -> Campaign:
        return self._client.request(campaign_ops.get(campaign_id))

    def start(self, campaign_id: int) -> Campaign:
        return self._client.request(campaign_ops.act(campaign_id, "start"))

    def pause(self, campaign_id: int) -> Campaign:
        return self._client.request(campaign_ops.act(campaign_id, "pause"))

    def resume(self, campaign_id: int) -> Campaign:
        return self._client.request(campaign_ops.act(campaign_id, "resume"))

    def cancel(self, campaign_id: int) -> Campaign:
        return self._client.request(campaign_ops.act(campaign_id, "cancel"))

    def retry_failed(self, campaign_id: int) -> Campaign:
        """Queue the retryable failures again (the answer's ``retried`` says how many)."""
        return self._client.request(campaign_ops.act(campaign_id, "retry-failed"))

    def delete(self, campaign_id: int) -> None:
        self._client.request(campaign_ops.delete(campaign_id))

    def recipients(
        self,
        campaign_id: int,
        *,
        states: Sequence[str] | None = None,
        cursor: str | None = None,
        per_page: int | None = None,
    ) -> RecipientPage:
        """One page of recipients, optionally only in ``states`` (e.g. ``["failed"]``)."""
        op = campaign_ops.recipients(campaign_id, states, cursor, per_page)
        return self._client.request(op)

    def iter_recipients(
        self, campaign_id: int, *, states: Sequence[str] | None = None, per_page: int = 1000
    ) -> Iterator[CampaignRecipient]:
        """Every recipient, page after page (by cursor)."""
        cursor: str | None = None
        while True:
            page = self.recipients(campaign_id, states=states, cursor=cursor, per_page=per_page)
            yield from page.data
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def report(self, campaign_id: int) -> str:
        """The per-recipient report as CSV text."""
        return self._client.request(campaign_ops.report(campaign_id))
