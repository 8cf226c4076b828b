"""Settings → Webhooks (owner and admin): Xobito's webhook endpoints and Meta webhook forwards.

Both are webhook endpoints of one kind (``WebhookService``, ``ForwardService``: the admin API's
rules, messages and activity-log entries), so one set of handlers serves both:

* ``/settings/webhooks``: endpoints (URL, events, enabled), add, and per endpoint its page:
  edit, the secret (shown once at creation and after each rotation), "Send test event",
  delete, and the delivery log (request, response, status, timing; Redeliver). While
  deliveries are pending, the log refreshes itself every 2 s, and stops when none are.
* ``/settings/webhooks/meta``: the same for forwards of Meta's raw webhooks, by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.kit.errors import ValidationFailed
from xobito.kit.params import RecordId
from xobito.kit.time import utcnow
from xobito.models import WebhookEndpoint
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data
from xobito.web.lists import Pagination, page_params
from xobito.web.render import redirect, render
from xobito.webhook.forward_schemas import META_FIELDS, TOPIC_PREFIX
from xobito.webhook.forward_service import ForwardService
from xobito.webhook.schemas import EVENT_NAMES
from xobito.webhook.service import WebhookService
from xobito.webhook.signing import headers as signed_headers

ROLE = "admin"
router = APIRouter(prefix="/{subdomain}/settings/webhooks", route_class=DatabaseRoute)
POLL_SECONDS = 2


@dataclass(frozen=True, slots=True)
class Kind:
    """What differs between Xobito's endpoints and Meta forwards."""

    key: str
    path: str  # below /settings/webhooks
    service: type[WebhookService]
    field: str  # the form's and the API's name of the topic list
    topics: tuple[str, ...]  # as the form offers them
    title: str
    noun: str

    def url(self, member: Member, suffix: str = "") -> str:
        return member.url(f"/settings/webhooks{self.path}{suffix}")

    def chosen(self, endpoint: WebhookEndpoint) -> list[str]:
        return [t.removeprefix(TOPIC_PREFIX) for t in endpoint.events]

    def open(self, member: Member) -> WebhookService:
        return self.service(member.session, member.workspace.id, member.settings)


XOBITO = Kind("xobito", "", WebhookService, "events", EVENT_NAMES, "Webhook endpoints", "endpoint")
META = Kind("meta", "/meta", ForwardService, "fields", META_FIELDS, "Meta forwarding", "forward")
FORM_FIELDS = ("url", "events", "fields", "enabled")


def endpoint_body(kind: Kind, data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The form as the admin API's JSON body. No topic ticked means all of them."""
    body: dict[str, Any] = {"url": data.get("url"), "enabled": data.get("enabled") != "0"}
    chosen = data.get(kind.field) or []
    if chosen:
        body[kind.field] = chosen
    elif not creating:
        body[kind.field] = list(kind.topics)
    return body


def field_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        out.setdefault(key.split(".")[0], []).extend(messages)
    return out


def request_shown(
    endpoint: WebhookEndpoint, event_id: str, event: str, body: bytes | None
) -> dict[str, Any]:
    """The request an attempt sent: method, URL, headers (signatures as at this moment: they
    are made per attempt from the time and the secret) and the exact body."""
    if body is None:
        return {"url": endpoint.url, "headers": {}, "body": None}
    hdrs = signed_headers(
        body=body, event_id=event_id, event=event, secrets=[endpoint.secret], now=utcnow()
    )
    for name in (
        "X-Webhook-Signature",
        "webhook-signature",
        "X-Webhook-Timestamp",
        "webhook-timestamp",
    ):
        hdrs[name] = "(made for each attempt)"
    return {"url": endpoint.url, "headers": hdrs, "body": body}


async def _list_page(
    request: Request,
    member: Member,
    kind: Kind,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    page, per_page = page_params(request.query_params)
    service = kind.open(member)
    records, total = await service.repo.page(page, per_page)
    errors = dict(errors or {})
    context = {
        "kind": kind,
        "endpoints": records,
        "pager": Pagination(page, per_page, total),
        "values": values or {"enabled": "1", kind.field: []},
        "errors": errors,
        "other_errors": [m for k, ms in errors.items() if k not in FORM_FIELDS for m in ms],
    }
    return render(
        request,
        "webhooks/list.html",
        context,
        fragment={"endpoint-new": "webhooks/_new.html", "endpoints-table": "webhooks/_table.html"},
        status_code=status,
    )


async def _detail_page(
    request: Request,
    member: Member,
    kind: Kind,
    endpoint: WebhookEndpoint,
    *,
    secret: str | None = None,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    service = kind.open(member)
    page, per_page = page_params(request.query_params)
    rows, total = await service.attempts(endpoint.id, page, per_page)
    attempts = [(log, request_shown(endpoint, log.event_id, log.event, body)) for log, body in rows]
    errors = dict(errors or {})
    context = {
        "kind": kind,
        "endpoint": endpoint,
        "secret": secret,
        "values": values
        or {
            "url": endpoint.url,
            "enabled": "1" if endpoint.enabled else "0",
            kind.field: kind.chosen(endpoint),
        },
        "errors": errors,
        "other_errors": [m for k, ms in errors.items() if k not in FORM_FIELDS for m in ms],
        "attempts": attempts,
        "pager": Pagination(page, per_page, total),
        "pending": await service.pending(endpoint.id),
        "poll_seconds": POLL_SECONDS,
        "now": utcnow(),
    }
    return render(
        request,
        "webhooks/detail.html",
        context,
        fragment={"delivery-log": "webhooks/_log.html", "endpoint-form": "webhooks/_form.html"},
        status_code=status,
    )


def install(kind: Kind) -> None:
    """The pages of one kind, under ``/settings/webhooks{kind.path}``."""
    base = kind.path
    name = f"web.{'forwards' if kind is META else 'webhooks'}"

    @router.get(base or "", name=name)
    async def index(request: Request, member: Member = Role(ROLE)) -> Response:
        return await _list_page(request, member, kind)

    @router.post(base or "", name=f"{name}.create")
    async def create(request: Request, member: Member = Role(ROLE)) -> Response:
        data = await form_data(request)
        try:
            endpoint, secret = await kind.open(member).create(
                endpoint_body(kind, data, creating=True)
            )
        except ValidationFailed as exc:
            values = {**data, kind.field: data.get(kind.field) or []}
            return await _list_page(
                request, member, kind, values=values, errors=field_errors(exc.errors), status=422
            )
        return await _detail_page(request, member, kind, endpoint, secret=secret, status=201)

    @router.get(f"{base}/{{endpoint_id}}", name=f"{name}.show")
    async def show(
        request: Request, endpoint_id: RecordId, member: Member = Role(ROLE)
    ) -> Response:
        endpoint = await kind.open(member).get(endpoint_id)
        return await _detail_page(request, member, kind, endpoint)

    @router.post(f"{base}/{{endpoint_id}}", name=f"{name}.update")
    async def update(
        request: Request, endpoint_id: RecordId, member: Member = Role(ROLE)
    ) -> Response:
        service = kind.open(member)
        endpoint = await service.get(endpoint_id)
        data = await form_data(request)
        try:
            await service.update(endpoint_id, endpoint_body(kind, data, creating=False))
        except ValidationFailed as exc:
            values = {**data, kind.field: data.get(kind.field) or []}
            return await _detail_page(
                request,
                member,
                kind,
                endpoint,
                values=values,
                errors=field_errors(exc.errors),
                status=422,
            )
        return redirect(request, kind.url(member, f"/{endpoint_id}"), f"The {kind.noun} is saved.")

    @router.post(f"{base}/{{endpoint_id}}/rotate", name=f"{name}.rotate")
    async def rotate(
        request: Request, endpoint_id: RecordId, member: Member = Role(ROLE)
    ) -> Response:
        endpoint, secret = await kind.open(member).rotate(endpoint_id)
        return await _detail_page(request, member, kind, endpoint, secret=secret)

    @router.post(f"{base}/{{endpoint_id}}/test", name=f"{name}.test")
    async def test(
        request: Request, endpoint_id: RecordId, member: Member = Role(ROLE)
    ) -> Response:
        event_id = await kind.open(member).test(endpoint_id)
        message = f"Test event {event_id} queued; its delivery appears in the log below."
        return redirect(request, kind.url(member, f"/{endpoint_id}"), message)

    @router.post(f"{base}/{{endpoint_id}}/redeliver", name=f"{name}.redeliver")
    async def redeliver(
        request: Request, endpoint_id: RecordId, member: Member = Role(ROLE)
    ) -> Response:
        service = kind.open(member)
        await service.get(endpoint_id)
        event_id = str((await form_data(request)).get("event_id") or "")[:64]
        await service.redeliver(event_id, endpoint_id)
        message = f"Event {event_id} queued again for this {kind.noun}."
        return redirect(request, kind.url(member, f"/{endpoint_id}"), message)

    @router.post(f"{base}/{{endpoint_id}}/delete", name=f"{name}.delete")
    async def delete(
        request: Request, endpoint_id: RecordId, member: Member = Role(ROLE)
    ) -> Response:
        service = kind.open(member)
        endpoint = await service.get(endpoint_id)
        await service.remove(endpoint_id)
        return redirect(request, kind.url(member), f"Removed {endpoint.url}.")


# Meta's pages first: ``/meta`` is not an endpoint id.
install(META)
install(XOBITO)
