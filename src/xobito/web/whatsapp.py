"""Settings → WhatsApp (owner and admin): the workspace's connection to Meta, and "Check
connection", the connection doctor's findings in plain words.

The form goes through ``ConnectionService.connect`` (the admin API's rules and messages). The
access token, app secret and verify token are write-only: the page says whether one is stored,
never shows it, and a field left empty keeps the stored value. The doctor (``diagnose``, as
``xobito doctor`` and the admin API run it) only reads, so it is a GET: the button asks for
the report region through htmx, and without JavaScript the link shows the page with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.connection.doctor import DoctorReport, diagnose
from xobito.connection.repository import ConnectionRepository
from xobito.connection.service import ConnectionService
from xobito.kit.errors import ValidationFailed
from xobito.models import WhatsAppConnection
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data
from xobito.web.render import redirect, render

ROLE = "admin"
router = APIRouter(prefix="/{subdomain}/settings/whatsapp", route_class=DatabaseRoute)

PROVIDERS = (("cloud", "WhatsApp Cloud API (Meta)"), ("sandbox", "Sandbox (simulated, no Meta)"))
SECRETS = ("access_token", "app_secret", "verify_token")
FIELDS = ("provider", "waba_id", "phone_number_ids", "primary_phone_number_id", "app_id", *SECRETS)
STATUS_WORDS = {"ok": "Working", "warning": "Warning", "error": "Problem", "skipped": "Not checked"}


def connect_body(data: Mapping[str, Any], conn: WhatsAppConnection | None) -> dict[str, Any]:
    """The form as the admin API's body. Phone number ids: one per line or comma-separated.
    An empty secret field keeps the stored secret."""
    body: dict[str, Any] = {"provider": data.get("provider")}
    for name in ("waba_id", "primary_phone_number_id", "app_id"):
        if data.get(name) is not None:
            body[name] = data[name]
    numbers = str(data.get("phone_number_ids") or "").replace(",", "\n").split()
    if numbers:
        body["phone_number_ids"] = numbers
    for name in SECRETS:
        value = data.get(name)
        stored = getattr(conn, name, None) if conn is not None else None
        if value is not None:
            body[name] = value
        elif stored:
            body[name] = stored
    return body


def form_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        out.setdefault(key.split(".")[0], []).extend(messages)
    return out


def display_numbers(report: DoctorReport | None) -> dict[str, str]:
    """Phone number id → the number Meta displays, from a report's facts."""
    if report is None:
        return {}
    for check in report.checks:
        shown = check.facts.get("display_phone_numbers")
        if isinstance(shown, dict):
            return {str(k): str(v) for k, v in shown.items()}
    return {}


async def _page(
    request: Request,
    member: Member,
    *,
    report: DoctorReport | None = None,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    conn = await ConnectionRepository(member.session).for_workspace(member.workspace.id)
    if values is None:
        values = {
            "provider": conn.provider if conn else "cloud",
            "waba_id": conn.waba_id if conn else None,
            "phone_number_ids": "\n".join(conn.phone_number_ids) if conn else None,
            "primary_phone_number_id": conn.primary_phone_number_id if conn else None,
            "app_id": conn.app_id if conn else None,
        }
    errors = dict(errors or {})
    context = {
        "conn": conn,
        "report": report,
        "display": display_numbers(report),
        "values": values,
        "errors": errors,
        "other_errors": [m for k, ms in errors.items() if k not in FIELDS for m in ms],
        "providers": PROVIDERS,
        "status_words": STATUS_WORDS,
        "webhook_url": f"{request.app.state.settings.public_url or ''}".rstrip("/")
        + "/webhooks/whatsapp",
    }
    return render(
        request,
        "whatsapp/whatsapp.html",
        context,
        fragment={"doctor": "whatsapp/_doctor.html", "connection-form": "whatsapp/_form.html"},
        status_code=status,
    )


@router.get("", name="web.whatsapp")
async def whatsapp(request: Request, member: Member = Role(ROLE)) -> Response:
    return await _page(request, member)


async def latest_traffic(request: Request) -> None:
    """This process's latest webhook counts written, before the doctor reads them. A
    dependency ahead of the role check: it runs before the request's own session holds a
    connection or a snapshot (SQLite's pool has one connection)."""
    await request.app.state.webhook_traffic.flush()


@router.get("/check", name="web.whatsapp.check")
async def check(
    request: Request, _: None = Depends(latest_traffic), member: Member = Role(ROLE)
) -> Response:
    state = request.app.state
    report = await diagnose(member.session, member.workspace, state.providers, state.settings)
    return await _page(request, member, report=report)


@router.post("", name="web.whatsapp.connect")
async def connect(request: Request, member: Member = Role(ROLE)) -> Response:
    data = await form_data(request)
    conn = await ConnectionRepository(member.session).for_workspace(member.workspace.id)
    try:
        await ConnectionService(member.session).connect(member.workspace, connect_body(data, conn))
    except ValidationFailed as exc:
        shown = {k: v for k, v in data.items() if k not in SECRETS}
        return await _page(
            request, member, values=shown, errors=form_errors(exc.errors), status=422
        )
    request.app.state.authenticator.workspaces.clear()
    return redirect(
        request,
        member.url("/settings/whatsapp"),
        "The connection is saved. Check it to see what Meta says.",
    )
