"""The team inbox: conversations (filters Mine / Unassigned / All / Resolved, search, cursor
pages), a conversation with its messages, header and composer, and a message's timeline.

Live: the page holds one ``sse-connect`` (``events.py``); each region refetches itself
through its own GET handler here when an event concerns it (``hx-trigger="sse:..."``,
``hx-sync`` "queue last", so none is missed and none piles up). Changes are in
``inbox_actions.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.chat import cursor
from xobito.chat.canned import CannedReplyService
from xobito.chat.reasons import reason
from xobito.chat.receipts import send_read_receipt
from xobito.chat.repository import ChatQuery
from xobito.chat.service import ChatService, Conversation
from xobito.chat.timeline import TimelineService
from xobito.kit.db import checkpoint
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.params import RecordId
from xobito.web.deps import Member, Role
from xobito.web.events import newest_event_id
from xobito.web.inbox_view import contact_details, template_choices, window_left
from xobito.web.render import render

router = APIRouter(prefix="/{subdomain}/inbox", route_class=DatabaseRoute)
VIEWS = (("all", "All"), ("mine", "Mine"), ("unassigned", "Unassigned"), ("resolved", "Resolved"))
PAGE_SIZE = 25
THREAD_SIZE = 50


@dataclass(frozen=True, slots=True)
class InboxFilters:
    """The list's state from the query string (junk is ignored, never an error page)."""

    view: str = "all"
    q: str | None = None
    cursor: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> InboxFilters:
        view = query.get("view") or "all"
        q = (query.get("q") or "").strip()[:255] or None
        raw = query.get("cursor") or None
        return cls(
            view if view in dict(VIEWS) else "all", q, raw if raw and len(raw) < 512 else None
        )

    def query(self, member: Member) -> ChatQuery:
        before = None
        if self.cursor is not None:
            try:
                position = cursor.decode(self.cursor, ("t", "id"))
                before = (cursor.time_of(position, "t"), cursor.int_of(position, "id"))
            except ValidationFailed:
                before = None
        common: dict[str, Any] = {"search": self.q, "before": before, "limit": PAGE_SIZE}
        if self.view == "mine":
            return ChatQuery(assigned=member.user.id, resolved=False, **common)
        if self.view == "unassigned":
            return ChatQuery(unassigned=True, resolved=False, **common)
        if self.view == "resolved":
            return ChatQuery(resolved=True, **common)
        return ChatQuery(**common)

    def params(self, **changes: Any) -> str:
        values = {"view": self.view, "q": self.q, "cursor": self.cursor, **changes}
        kept = {k: v for k, v in values.items() if v and not (k == "view" and v == "all")}
        return f"?{urlencode(kept)}" if kept else ""


async def conversation_list(member: Member, f: InboxFilters) -> dict[str, Any]:
    service = ChatService(member.session, member.workspace.id)
    found, more = await service.page(f.query(member))
    next_cursor = None
    if more and found and found[-1].chat.last_message_at is not None:
        last = found[-1].chat
        assert last.last_message_at is not None
        next_cursor = cursor.encode({"t": last.last_message_at.isoformat(), "id": last.id})
    return {"conversations": found, "next_cursor": next_cursor, "f": f, "views": VIEWS}


def list_context(member: Member, f: InboxFilters, listing: dict[str, Any]) -> dict[str, Any]:
    return {**listing, "list_url": member.url("/inbox/list") + f.params()}


@router.get("", name="web.inbox")
async def inbox_page(request: Request, member: Member = Role("agent")) -> Response:
    f = InboxFilters.from_query(request.query_params)
    listing = await conversation_list(member, f)
    context = {
        **list_context(member, f, listing),
        "after": await newest_event_id(member.session),
        "open": None,
    }
    return render(request, "inbox/page.html", context, fragment="inbox/_list.html")


@router.get("/list", name="web.inbox.list")
async def list_fragment(request: Request, member: Member = Role("agent")) -> Response:
    f = InboxFilters.from_query(request.query_params)
    listing = await conversation_list(member, f)
    open_id = request.query_params.get("open")
    context = {
        **list_context(member, f, listing),
        "open": int(open_id) if open_id and open_id.isdigit() and len(open_id) < 10 else None,
    }
    return render(request, "inbox/_list.html", context)


async def thread_context(member: Member, request: Request, chat_id: int) -> dict[str, Any]:
    """Everything the conversation regions show; opening clears the unread count (written
    only when there is one: the regions refetch on every live event, and a write each time
    would hold SQLite's write lock for nothing)."""
    service = ChatService(member.session, member.workspace.id)
    c = await service.get(chat_id)
    if c.chat.unread_count:
        await mark_read(request, member, chat_id)
    before = request.query_params.get("before")
    before_id = int(before) if before and before.isdigit() and len(before) < 10 else None
    thread = await service.messages(chat_id, before=before_id, limit=THREAD_SIZE)
    thread.messages.reverse()  # oldest first on the page
    return {
        "c": c,
        "thread": thread,
        "before": before_id,
        "reason": reason,
        "window": window_left(c, member.workspace.enforce_care_window),
        "members": await service.members(),
    }


async def mark_read(request: Request, member: Member, chat_id: int) -> None:
    """In the page's session, committed by the request boundary (on PostgreSQL a GET's
    session autocommits: the one UPDATE, its live event at the commit). When something was
    unread and the workspace sends read receipts, Meta is told (once, not on every refetch)."""
    cleared = await ChatService(member.session, member.workspace.id).mark_read(chat_id)
    if cleared and member.workspace.send_read_receipts:
        await checkpoint(member.session)  # the UPDATE commits before Meta is asked
        providers = request.app.state.providers
        await send_read_receipt(member.session, member.workspace.id, chat_id, providers)


async def composer_context(member: Member, c: Conversation, window: Any) -> dict[str, Any]:
    canned = await CannedReplyService(member.session, member.workspace.id).all()
    templates = await template_choices(member.session, member.workspace.id, c.contact)
    return {"canned": canned, "templates": templates}


@router.get("/{chat_id}", name="web.inbox.chat")
async def chat_page(
    request: Request, chat_id: RecordId, member: Member = Role("agent")
) -> Response:
    f = InboxFilters.from_query(request.query_params)
    after = await newest_event_id(member.session)  # before any read: nothing lost in between
    context = await thread_context(member, request, chat_id)
    listing = await conversation_list(member, f)
    context.update(list_context(member, f, listing))
    context.update(await composer_context(member, context["c"], context["window"]))
    context["details"] = await contact_details(member, context["c"].contact)
    context["after"] = after
    context["open"] = chat_id
    return render(request, "inbox/page.html", context)


@router.get("/{chat_id}/messages", name="web.inbox.messages")
async def messages_fragment(
    request: Request, chat_id: RecordId, member: Member = Role("agent")
) -> Response:
    return render(request, "inbox/_messages.html", await thread_context(member, request, chat_id))


@router.get("/{chat_id}/header", name="web.inbox.header")
async def header_fragment(
    request: Request, chat_id: RecordId, member: Member = Role("agent")
) -> Response:
    service = ChatService(member.session, member.workspace.id)
    c = await service.get(chat_id)
    context = {
        "c": c,
        "window": window_left(c, member.workspace.enforce_care_window),
        "members": await service.members(),
    }
    return render(request, "inbox/_header.html", context)


@router.get("/{chat_id}/composer", name="web.inbox.composer")
async def composer_fragment(
    request: Request, chat_id: RecordId, member: Member = Role("agent")
) -> Response:
    """Refetched on new messages: answers 204 (no swap, the draft stays) unless the care
    window opened or closed since the composer was rendered (``open``)."""
    c = await ChatService(member.session, member.workspace.id).get(chat_id)
    window = window_left(c, member.workspace.enforce_care_window)
    shown = request.query_params.get("open")
    if shown is not None and shown == ("1" if window.open else "0"):
        return Response(status_code=204)
    context = {"c": c, "window": window, **await composer_context(member, c, window)}
    return render(request, "inbox/_composer.html", context)


@router.get("/{chat_id}/messages/{message_id}/timeline", name="web.inbox.timeline")
async def timeline(
    request: Request, chat_id: RecordId, message_id: RecordId, member: Member = Role("agent")
) -> Response:
    service = TimelineService(member.session, member.workspace.id)
    message, entries, _ = await service.of(message_id)
    c = await ChatService(member.session, member.workspace.id).get(chat_id)
    if message.chat_id != c.chat.id:
        raise NotFound("Message not found")
    context = {"c": c, "message": message, "entries": entries, "reason": reason}
    return render(request, "inbox/timeline.html", context, fragment="inbox/_timeline.html")


@router.get("/{chat_id}/template-preview", name="web.inbox.template_preview")
async def template_preview(
    request: Request, chat_id: RecordId, member: Member = Role("agent")
) -> Response:
    c = await ChatService(member.session, member.workspace.id).get(chat_id)
    choices = await template_choices(member.session, member.workspace.id, c.contact)
    wanted = request.query_params.get("template")
    chosen = next((t for t in choices if t.key == wanted), None)
    values = {k: v for k, v in request.query_params.items() if k.startswith(("field_", "header_"))}
    return render(request, "inbox/_preview.html", {"t": chosen, "values": values})
