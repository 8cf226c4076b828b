"""The inbox's changes: send (text, reply, buttons, template, media), internal notes, Retry
of a failed message, assign / unassign, resolve / reopen.

Each is a real form post (works without JavaScript: a 303 back to the conversation); with
htmx the answer is the region it changed and an ``HX-Trigger`` that makes the thread
refetch at once (the live event does it for everyone else).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.chat.sending import InboxSender, require_chat_message
from xobito.chat.service import ChatService
from xobito.kit.errors import ValidationFailed
from xobito.kit.multipart import FilePart
from xobito.kit.params import RecordId
from xobito.message.repository import MessageRepository
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data, form_file
from xobito.web.inbox import composer_context
from xobito.web.inbox_view import window_left
from xobito.web.render import redirect, render

router = APIRouter(prefix="/{subdomain}/inbox", route_class=DatabaseRoute)
REFRESH = "inbox-refresh"
MEDIA_TYPES = {"image", "video", "audio", "document"}


def sender(request: Request, member: Member) -> InboxSender:
    state = request.app.state
    return InboxSender(
        member.session,
        member.info,
        state.providers,
        state.settings.sandbox_status_delay_seconds,
        member.user.id,
        state.pacer,
    )


def media_type_of(mime: str) -> str:
    kind = mime.split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "document"


async def composer_answer(
    request: Request,
    member: Member,
    chat_id: int,
    *,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, Any] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    c = await ChatService(member.session, member.workspace.id).get(chat_id)
    window = window_left(c, member.workspace.enforce_care_window)
    context = {
        "c": c,
        "window": window,
        "errors": errors or {},
        "values": values or {},
        "notice": notice,
        **await composer_context(member, c, window),
    }
    headers = {"HX-Trigger": REFRESH} if status < 400 or notice else {}
    return render(request, "inbox/_composer.html", context, status_code=status, headers=headers)


@router.post("/{chat_id}/send", name="web.inbox.send")
async def send(request: Request, chat_id: RecordId, member: Member = Role("agent")) -> Response:
    data = await form_data(request)
    kind = data.get("kind") or "text"
    service = ChatService(member.session, member.workspace.id)
    c = await service.get(chat_id)
    out = sender(request, member)
    back = member.url(f"/inbox/{chat_id}")
    try:
        if kind == "note":
            await out.note(c.chat, c.contact, str(data.get("note") or ""))
            outcome = None
        elif kind == "template":
            name, _, language = str(data.get("template") or "").partition("|")
            fields = {
                k: v
                for k, v in data.items()
                if k.startswith(("field_", "header_field_", "button_")) and v
            }
            fields.update(template_name=name or None, template_language=language or None)
            outcome = await out.template(c.contact, fields)
        elif kind == "media":
            upload = await form_file(request, "file")
            if upload is None:
                raise ValidationFailed({"file": ["The file field is required."]})
            part = FilePart(
                "media_file",
                upload.filename or "file",
                upload.content_type or "",
                await upload.read(),
            )
            outcome = await out.media(
                c.contact, media_type_of(part.content_type), part, data.get("caption")
            )
        else:
            body = data.get("message_body")
            titles = [t for t in (data.get(f"button_{n}") for n in (1, 2, 3)) if t]
            if titles:
                outcome = await out.buttons(c.contact, body or "", titles)
            else:
                reply_to = None
                if data.get("reply_to") and str(data["reply_to"]).isdigit():
                    found = await MessageRepository(member.session, member.workspace.id).get(
                        int(data["reply_to"])
                    )
                    reply_to = require_chat_message(found, chat_id)
                outcome = await out.text(c.contact, body or "", reply_to)
    except ValidationFailed as exc:
        if request.headers.get("hx-request") != "true":
            first = next(iter(exc.errors.values()), ["The message could not be sent."])[0]
            return redirect(request, back, first, "error")
        return await composer_answer(
            request, member, chat_id, errors=exc.errors, values=data, status=422
        )
    notice = None
    if outcome is not None and outcome.error is not None:
        request.state.commit = True  # the failed attempt is kept, with Meta's reason
        notice = f"Meta refused the message: {outcome.error.describe()}"
    if request.headers.get("hx-request") != "true":
        return redirect(request, back, notice or "Sent.", "error" if notice else "success")
    return await composer_answer(request, member, chat_id, notice=notice)


@router.post("/{chat_id}/messages/{message_id}/retry", name="web.inbox.retry")
async def retry(
    request: Request, chat_id: RecordId, message_id: RecordId, member: Member = Role("agent")
) -> Response:
    await ChatService(member.session, member.workspace.id).get(chat_id)
    found = await MessageRepository(member.session, member.workspace.id).get(message_id)
    failed = require_chat_message(found, chat_id)
    back = member.url(f"/inbox/{chat_id}")
    try:
        outcome = await sender(request, member).retry(failed)
    except ValidationFailed as exc:
        return redirect(request, back, next(iter(exc.errors.values()))[0], "error")
    if outcome.error is not None:
        request.state.commit = True
        return redirect(
            request, back, f"Sent again; Meta refused it: {outcome.error.describe()}", "error"
        )
    return redirect(request, back, "Sent again.")


async def header_answer(request: Request, member: Member, chat_id: int, message: str) -> Response:
    if request.headers.get("hx-request") != "true":
        return redirect(request, member.url(f"/inbox/{chat_id}"), message)
    service = ChatService(member.session, member.workspace.id)
    c = await service.get(chat_id)
    context = {
        "c": c,
        "window": window_left(c, member.workspace.enforce_care_window),
        "members": await service.members(),
        "announce": message,
    }
    return render(request, "inbox/_header.html", context, headers={"HX-Trigger": REFRESH})


@router.post("/{chat_id}/assign", name="web.inbox.assign")
async def assign(request: Request, chat_id: RecordId, member: Member = Role("agent")) -> Response:
    data = await form_data(request)
    raw = data.get("user_id")
    user_id = (
        member.user.id
        if raw == "me"
        else (int(raw) if raw and str(raw).isdigit() and len(str(raw)) < 10 else None)
    )
    service = ChatService(member.session, member.workspace.id)
    try:
        c = await service.assign_to(chat_id, user_id)
    except ValidationFailed:
        return redirect(
            request,
            member.url(f"/inbox/{chat_id}"),
            "That person is not a member of this workspace.",
            "error",
        )
    text = f"Assigned to {c.assignee.name}." if c.assignee else "Unassigned."
    return await header_answer(request, member, chat_id, text)


@router.post("/{chat_id}/resolve", name="web.inbox.resolve")
async def resolve(request: Request, chat_id: RecordId, member: Member = Role("agent")) -> Response:
    await ChatService(member.session, member.workspace.id).resolve(chat_id)
    return await header_answer(request, member, chat_id, "Conversation resolved.")


@router.post("/{chat_id}/reopen", name="web.inbox.reopen")
async def reopen(request: Request, chat_id: RecordId, member: Member = Role("agent")) -> Response:
    await ChatService(member.session, member.workspace.id).reopen(chat_id)
    return await header_answer(request, member, chat_id, "Conversation reopened.")
