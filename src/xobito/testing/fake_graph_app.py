"""The fake Graph API's state and ASGI app (served by ``fake_graph.FakeGraphServer``)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import aiohttp
import orjson
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from xobito.testing import meta_operations, meta_schema
from xobito.testing.fake_graph_accounts import FakeAccounts
from xobito.testing.fake_graph_records import (
    ProgrammedFailure,
    RecordedRequest,
    SchemaViolation,
    SentMessage,
    UploadedMedia,
)
from xobito.testing.meta_errors import default_http_status, meta_error_body
from xobito.testing.meta_templates import paginate, sample_templates
from xobito.testing.meta_webhooks import (
    DEFAULT_DISPLAY_PHONE_NUMBER,
    DEFAULT_WABA_ID,
    StatusName,
    StatusUpdate,
    build_status_webhook,
    post_webhook,
)

GRAPH_VERSION = "v23.0"
UploadedPart = tuple[str, str, bytes]  # filename, content type, data


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _error(
    code: int,
    http_status: int | None = None,
    message: str | None = None,
    details: str | None = None,
) -> Response:
    status = http_status if http_status is not None else default_http_status(code)
    return _json(meta_error_body(code, message, details=details), status)


def _wamid(wa_id: str) -> str:
    # Real wamids are base64 of an opaque binary blob that embeds the recipient.
    blob = b"\x15\x02\x00\x11\x18" + wa_id.encode() + b"\x00" + secrets.token_bytes(12)
    return "wamid." + base64.b64encode(blob).decode()


class FakeGraph:
    """State and ASGI app of the fake. Mutate the attributes freely between requests."""

    def __init__(
        self,
        *,
        version: str = GRAPH_VERSION,
        latency_ms: float = 0.0,
        validate: bool = True,
        record: bool = True,
        access_tokens: Iterable[str] | None = None,
        templates: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        self.version = version
        self.validate = validate
        self.record = record  # benchmarks turn this off so memory stays flat
        self._initial = (
            latency_ms,
            set(access_tokens) if access_tokens else None,
            list(templates) if templates is not None else sample_templates(),
        )
        self.latency_ms = latency_ms
        self._generation = 0  # bumped by reset(): requests still waiting then are not recorded
        self.access_tokens: set[str] | None = None
        self.templates: list[dict[str, Any]] = []
        self.requests: list[RecordedRequest] = []
        self.schema_violations: list[SchemaViolation] = []
        self.sent: list[SentMessage] = []
        self.media: dict[str, UploadedMedia] = {}
        self.read_receipts: list[tuple[str, str]] = []  # (phone number id, wamid) marked read
        self.request_count = 0
        # Per recipient (digits): (http_status, meta_code, message or None for Meta's wording).
        self.fail_for_to: dict[str, tuple[int, int, str | None]] = {}
        # Per recipient: the next n sends to it fail with Meta ``code`` (then they succeed).
        self._fail_times: dict[str, list[int]] = {}
        # Every message send fails with ``code`` until this ``time.monotonic()`` (a throttle).
        self._fail_until: tuple[float, int] | None = None
        self._failures: list[ProgrammedFailure] = []
        self._lock = threading.Lock()  # tests program failures from another thread
        # WABAs, numbers and subscriptions (the doctor's reads); persistent denials.
        self.accounts = FakeAccounts()
        self.reset()
        self.app = Starlette(routes=self._routes())

    def _routes(self) -> list[Route]:
        return [
            Route("/_fake/state", self._state, methods=["GET"]),
            Route("/_fake/reset", self._reset_endpoint, methods=["POST"]),
            Route("/_fake/config", self._config_endpoint, methods=["POST"]),
            Route(
                "/_fake/media/{media_id}",
                self._media_download,
                methods=["GET"],
                name="fake_media_download",
            ),
            Route("/{version}/{node_id}/messages", self._messages, methods=["POST"]),
            Route("/{version}/{node_id}/media", self._media, methods=["POST"]),
            Route("/{version}/{node_id}/message_templates", self._templates, methods=["GET"]),
            Route("/{version}/{node_id}/phone_numbers", self._phone_numbers, methods=["GET"]),
            Route("/{version}/{node_id}/subscribed_apps", self._subscribed_apps, methods=["GET"]),
            Route("/{version}/{node_id}", self._phone_number, methods=["GET"]),
        ]

    # ---- control ---------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        *,
        code: int = 131000,
        status: int | None = None,
        message: str | None = None,
        details: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests (to ``endpoint``: "messages", "media",
        "message_templates"; None = any) with Meta error ``code``, HTTP ``status`` defaulting to
        the one Meta uses for that code, and Meta's wording unless ``message``/``details``."""
        http_status = status if status is not None else default_http_status(code)
        failure = ProgrammedFailure(http_status, code, message, details, endpoint)
        with self._lock:
            self._failures.extend([failure] * n)

    def fail_recipient(self, wa_id: str, n: int = 1, *, code: int = 131056) -> None:
        """The next ``n`` sends to ``wa_id`` (digits) fail with Meta ``code``."""
        with self._lock:
            self._fail_times[wa_id] = [n, code]

    def fail_for(self, seconds: float, *, code: int = 130429) -> None:
        """Every message send fails with ``code`` for the next ``seconds``."""
        self._fail_until = (time.monotonic() + seconds, code)

    def add_media(self, data: bytes, mime_type: str, filename: str = "") -> str:
        """Media Meta holds for a customer's message (what an inbound webhook's media id
        names); served by ``GET /{media-id}`` and its download URL. Returns the id."""
        media_id = str(secrets.randbelow(9 * 10**15) + 10**15)
        self.media[media_id] = UploadedMedia(media_id, "", filename, mime_type, data)
        return media_id

    def sent_counts(self) -> Counter[str]:
        """Messages accepted per recipient (wa_id digits)."""
        return Counter(m.wa_id for m in self.sent)

    def reset(self) -> None:
        """Forget recorded traffic and programmed failures; restore constructor settings."""
        self._generation += 1
        with self._lock:
            self._failures.clear()
            self._fail_times.clear()
        self._fail_until = None
        self.requests.clear()
        self.schema_violations.clear()
        self.sent.clear()
        self.media.clear()
        self.read_receipts.clear()
        self.fail_for_to.clear()
        self.accounts.reset()
        self.request_count = 0
        latency_ms, tokens, templates = self._initial
        self.latency_ms = latency_ms
        self.access_tokens = set(tokens) if tokens is not None else None
        self.templates = [dict(t) for t in templates]

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """Recorded requests whose path ends with ``/<endpoint>``."""
        return [r for r in self.requests if r.path.endswith("/" + endpoint)]

    def _take_failure(self, endpoint: str) -> ProgrammedFailure | None:
        with self._lock:
            for i, failure in enumerate(self._failures):
                if failure.endpoint in (None, endpoint):
                    return self._failures.pop(i)
        return None

    # ---- webhooks --------------------------------------------------------------------------

    def status_updates(
        self,
        statuses: Sequence[StatusName] = ("sent", "delivered", "read"),
        wamids: Iterable[str] | None = None,
    ) -> list[tuple[str, StatusUpdate]]:
        """(phone_number_id, update) for every status of every sent message (or those given)."""
        wanted = set(wamids) if wamids is not None else None
        return [
            (m.phone_number_id, StatusUpdate(m.wamid, status, m.wa_id))
            for m in self.sent
            if wanted is None or m.wamid in wanted
            for status in statuses
        ]

    async def send_status_webhooks(
        self,
        target_url: str,
        app_secret: str,
        updates: Iterable[StatusUpdate | tuple[str, StatusUpdate]] | None = None,
        *,
        phone_number_id: str | None = None,
        display_phone_number: str = DEFAULT_DISPLAY_PHONE_NUMBER,
        waba_id: str = DEFAULT_WABA_ID,
        batch: bool = False,
    ) -> list[int]:
        """POST signed status webhooks to ``target_url``; returns the receiver's statuses.

        Without ``updates``: sent, delivered, read for every message sent so far. Bare
        ``StatusUpdate``s are attributed to ``phone_number_id``. One webhook per update (as Meta
        mostly does) unless ``batch``, which groups them per phone number.
        """
        items = self.status_updates() if updates is None else list(updates)
        groups: list[tuple[str, list[StatusUpdate]]] = []
        for item in items:
            pnid, update = item if isinstance(item, tuple) else (phone_number_id, item)
            if pnid is None:
                raise ValueError("phone_number_id is required for bare StatusUpdate items")
            if batch and groups and groups[-1][0] == pnid:
                groups[-1][1].append(update)
            else:
                groups.append((pnid, [update]))
        results: list[int] = []
        async with aiohttp.ClientSession() as session:
            for pnid, group in groups:
                payload = build_status_webhook(
                    group,
                    phone_number_id=pnid,
                    display_phone_number=display_phone_number,
                    waba_id=waba_id,
                )
                results.append(await post_webhook(target_url, payload, app_secret, session=session))
        return results

    # ---- Graph endpoints -------------------------------------------------------------------

    async def _begin(
        self, request: Request, endpoint: str, body: Any = None, errors: Sequence[str] = ()
    ) -> Response | None:
        """Latency, auth, schema violations and programmed failures, for every Graph endpoint.

        A violation is recorded even when a programmed failure answers instead, so tests that
        script failures still catch malformed requests.
        """
        self.request_count += 1
        if self.latency_ms > 0:
            generation = self._generation
            await asyncio.sleep(self.latency_ms / 1000)
            if generation != self._generation:
                # A reset (the next test) came while this request waited: a previous test's
                # request must not be counted as the new test's traffic.
                return _error(2, 503, "The fake was reset while this request waited.")
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token:
            return _error(
                190,
                401,
                "An active access token must be used to query information about the current user.",
            )
        if self.access_tokens is not None and token not in self.access_tokens:
            return _error(190, 401)
        if errors:
            self.schema_violations.append(SchemaViolation(request.url.path, body, list(errors)))
        failure = self._take_failure(endpoint)
        if failure is not None:
            return _error(failure.code, failure.http_status, failure.message, failure.details)
        denied = self.accounts.denial(endpoint)
        if denied is not None:
            return _json(denied[1], denied[0])
        if errors:
            return _error(100, 400, details="; ".join(errors)[:2000])
        return None

    def _record(
        self, request: Request, body: Any = None, form: dict[str, Any] | None = None
    ) -> None:
        if self.record:
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.url.path,
                    dict(request.headers),
                    dict(request.query_params),
                    body,
                    form,
                )
            )

    async def _messages(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = raw.decode(errors="replace")
        self._record(request, body)
        if not isinstance(body, dict):
            errors = ["$: request body is not a JSON object"]
        elif meta_schema.is_read_receipt(body):
            errors = meta_schema.validate_read_receipt(body) if self.validate else []
        else:
            errors = meta_schema.validate_message_request(body) if self.validate else []
        early = await self._begin(request, "messages", body, errors)
        if early is not None:
            return early
        assert isinstance(body, dict)  # non-objects were answered as violations above
        if meta_schema.is_read_receipt(body):
            if self.record:
                self.read_receipts.append((request.path_params["node_id"], body["message_id"]))
            return _json({"success": True})
        to = str(body.get("to", ""))
        wa_id = "".join(ch for ch in to if ch.isdigit())
        rule = self.fail_for_to.get(wa_id)
        if rule is not None:
            return _error(rule[1], rule[0], rule[2])
        with self._lock:
            times = self._fail_times.get(wa_id)
            if times is not None and times[0] > 0:
                times[0] -= 1
                return _error(times[1])
        until = self._fail_until
        if until is not None and time.monotonic() < until[0]:
            return _error(until[1])
        wamid = _wamid(wa_id)
        message: dict[str, Any] = {"id": wamid}
        if body.get("type") == "template":
            message["message_status"] = "accepted"
        if self.record:
            node = request.path_params["node_id"]
            self.sent.append(SentMessage(wamid, wa_id, node, body, time.monotonic()))
        return _json(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": wa_id}],
                "messages": [message],
            }
        )

    @staticmethod
    async def _read_form(request: Request) -> tuple[dict[str, str], dict[str, UploadedPart]]:
        texts: dict[str, str] = {}
        files: dict[str, UploadedPart] = {}
        async with request.form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    files[key] = (value.filename or "", value.content_type or "", data)
                else:
                    texts[key] = value
        return texts, files

    async def _media(self, request: Request) -> Response:
        try:
            texts, files = await self._read_form(request)
        except HTTPException as exc:  # malformed multipart: a client error, as at Meta
            texts, files = {"_error": str(exc.detail)}, {}
        described = {
            k: {"filename": f, "content_type": c, "size": len(d)} for k, (f, c, d) in files.items()
        }
        recorded = {**texts, **described}
        self._record(request, form=recorded)
        as_strings = {**texts, **{k: f"<binary {len(d)} bytes>" for k, (_, _, d) in files.items()}}
        errors = meta_schema.validate_media_upload(as_strings)
        if "file" not in files:
            errors.append("$.file: must be a file part")
        early = await self._begin(request, "media", recorded, errors)
        if early is not None:
            return early
        media_id = str(secrets.randbelow(9 * 10**15) + 10**15)  # 16 digits, like Meta's
        filename, _, data = files["file"]
        if self.record:
            self.media[media_id] = UploadedMedia(
                media_id, request.path_params["node_id"], filename, texts["type"], data
            )
        return _json({"id": media_id})

    async def _templates(self, request: Request) -> Response:
        self._record(request)
        early = await self._begin(request, "message_templates")
        if early is not None:
            return early
        try:
            page = paginate(self.templates, request.query_params, str(request.url))
        except ValueError as exc:
            return _error(100, 400, details=str(exc))
        return _json(page)

    async def _read(
        self, request: Request, endpoint: str, spec_path: str, id_name: str
    ) -> Response | tuple[str, dict[str, str]]:
        """Checks shared by the doctor's reads: parameters against the operation, auth,
        failures. Returns the early answer, or the node id and query to answer."""
        self._record(request)
        node_id = request.path_params["node_id"]
        query = dict(request.query_params)
        path = {"Version": request.path_params["version"], id_name: node_id}
        errors = meta_operations.validate_request(spec_path, "get", path, query)
        early = await self._begin(request, endpoint, None, errors if self.validate else ())
        return early if early is not None else (node_id, query)

    def _answer(self, spec_path: str, request: Request, status: int, body: Any) -> Response:
        """Meta's answer, checked against the operation's response schema (a mismatch is a
        bug of the fake, recorded as a violation)."""
        if self.validate:
            fields = request.query_params.get("fields")
            errors = meta_operations.validate_response(spec_path, "get", status, body, fields)
            if errors:
                self.schema_violations.append(
                    SchemaViolation(request.url.path, body, [f"response: {e}" for e in errors])
                )
        return _json(body, status)

    async def _media_url(self, request: Request, media: UploadedMedia) -> Response:
        """``GET /{Media-ID}``: Meta's answer, with a download URL on this server (Meta's
        lookaside host needs the token too)."""
        spec = meta_operations.MEDIA_ID_PATH
        read = await self._read(request, "media_url", spec, "Media-ID")
        if isinstance(read, Response):
            return read
        body = {
            "messaging_product": "whatsapp",
            "url": str(request.url_for("fake_media_download", media_id=media.media_id)),
            "mime_type": media.mime_type,
            "sha256": hashlib.sha256(media.data).hexdigest(),
            "file_size": str(len(media.data)),
            "id": media.media_id,
        }
        return self._answer(spec, request, 200, body)

    async def _media_download(self, request: Request) -> Response:
        """The media URL: the bytes, for a request with a valid token only."""
        self._record(request)
        early = await self._begin(request, "media_download")
        if early is not None:
            return early
        media = self.media.get(request.path_params["media_id"])
        if media is None:
            return Response(b"", status_code=404)
        return Response(media.data, media_type=media.mime_type)

    async def _phone_number(self, request: Request) -> Response:
        media = self.media.get(request.path_params["node_id"])
        if media is not None:
            return await self._media_url(request, media)
        spec = meta_operations.PHONE_NUMBER_PATH
        read = await self._read(request, "phone_number", spec, "Phone-Number-ID")
        if isinstance(read, Response):
            return read
        status, body = self.accounts.phone_number(*read)
        return self._answer(spec, request, status, body)

    async def _phone_numbers(self, request: Request) -> Response:
        spec = meta_operations.WABA_NUMBERS_PATH
        read = await self._read(request, "phone_numbers", spec, "WABA-ID")
        if isinstance(read, Response):
            return read
        status, body = self.accounts.phone_numbers(*read, str(request.url))
        return self._answer(spec, request, status, body)

    async def _subscribed_apps(self, request: Request) -> Response:
        spec = meta_operations.SUBSCRIBED_APPS_PATH
        read = await self._read(request, "subscribed_apps", spec, "WABA-ID")
        if isinstance(read, Response):
            return read
        status, body = self.accounts.subscribed_apps(read[0])
        return self._answer(spec, request, status, body)

    # ---- control endpoints (for out-of-process benchmarks) ---------------------------------

    async def _state(self, request: Request) -> Response:
        return _json(
            {
                "request_count": self.request_count,
                "sent": len(self.sent),
                "schema_violations": [v.errors for v in self.schema_violations],
            }
        )

    async def _reset_endpoint(self, request: Request) -> Response:
        self.reset()
        return _json({"ok": True})

    async def _config_endpoint(self, request: Request) -> Response:
        config = orjson.loads(await request.body() or b"{}")
        if "latency_ms" in config:
            self.latency_ms = float(config["latency_ms"])
        if isinstance(config.get("fail_next"), Mapping):
            spec = config["fail_next"]
            self.fail_next(
                int(spec.get("n", 1)),
                code=int(spec.get("code", 131000)),
                status=spec.get("status"),
                endpoint=spec.get("endpoint"),
            )
        return _json({"ok": True, "latency_ms": self.latency_ms})
