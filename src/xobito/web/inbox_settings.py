"""Settings → Inbox (owner and admin): whether opening a conversation sends Meta the read
receipt (the customer's blue ticks), and the workspace's saved replies (``/shortcut`` in the
composer): add, edit, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.activity.recorder import note
from xobito.api.routing import DatabaseRoute
from xobito.chat.canned import CannedReplyService
from xobito.kit.errors import ValidationFailed
from xobito.kit.params import RecordId
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data
from xobito.web.render import redirect, render

ROLE = "admin"
router = APIRouter(prefix="/{subdomain}/settings/inbox", route_class=DatabaseRoute)


async def _page(
    request: Request,
    member: Member,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "replies": await CannedReplyService(member.session, member.workspace.id).all(),
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "inbox_settings/page.html", context, status_code=status)


@router.get("", name="web.inbox_settings")
async def page(request: Request, member: Member = Role(ROLE)) -> Response:
    return await _page(request, member)


@router.post("", name="web.inbox_settings.update")
async def update(request: Request, member: Member = Role(ROLE)) -> Response:
    data = await form_data(request)
    on = str(data.get("send_read_receipts") or "0") == "1"
    if member.workspace.send_read_receipts != on:
        member.workspace.send_read_receipts = on
        state = "on" if on else "off"
        note(member.workspace.id, "workspace.updated", f"Turned read receipts {state}",
             "workspace", member.workspace.id)  # fmt: skip
    text = "Read receipts are on." if on else "Read receipts are off."
    return redirect(request, member.url("/settings/inbox"), text)


@router.post("/replies", name="web.canned.create")
async def create(request: Request, member: Member = Role(ROLE)) -> Response:
    data = await form_data(request)
    try:
        reply = await CannedReplyService(member.session, member.workspace.id).create(data)
    except ValidationFailed as exc:
        return await _page(request, member, values=data, errors=exc.errors, status=422)
    return redirect(request, member.url("/settings/inbox"), f"Saved reply /{reply.shortcut} added.")


@router.get("/replies/{reply_id}", name="web.canned.edit")
async def edit(request: Request, reply_id: RecordId, member: Member = Role(ROLE)) -> Response:
    reply = await CannedReplyService(member.session, member.workspace.id).get(reply_id)
    context = {"reply": reply, "values": {"shortcut": reply.shortcut, "body": reply.body}}
    return render(request, "inbox_settings/edit.html", {**context, "errors": {}})


@router.post("/replies/{reply_id}", name="web.canned.update")
async def change(request: Request, reply_id: RecordId, member: Member = Role(ROLE)) -> Response:
    data = await form_data(request)
    service = CannedReplyService(member.session, member.workspace.id)
    try:
        reply = await service.update(reply_id, data)
    except ValidationFailed as exc:
        context = {"reply": await service.get(reply_id), "values": data, "errors": exc.errors}
        return render(request, "inbox_settings/edit.html", context, status_code=422)
    return redirect(request, member.url("/settings/inbox"), f"Saved reply /{reply.shortcut} saved.")


@router.post("/replies/{reply_id}/delete", name="web.canned.delete")
async def delete(request: Request, reply_id: RecordId, member: Member = Role(ROLE)) -> Response:
    shortcut = await CannedReplyService(member.session, member.workspace.id).delete(reply_id)
    return redirect(request, member.url("/settings/inbox"), f"Saved reply /{shortcut} deleted.")
