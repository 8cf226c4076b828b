"""``/chats``: the team inbox over the API (beyond Xobito v1): conversations newest first
with filters and cursor pages, a conversation's messages, assign / resolve / reopen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.chat import cursor
from xobito.chat.repository import ChatQuery
from xobito.chat.schemas import CHAT, MESSAGE, AssignIn, cursor_page, message_record
from xobito.chat.service import CHAT_NOT_FOUND, ChatService
from xobito.kit.body import json_body
from xobito.kit.errors import ValidationFailed
from xobito.kit.openapi import api_responses, route_doc
from xobito.kit.pagination import page_path
from xobito.kit.params import MAX_ID, RecordId
from xobito.kit.responses import success

router = APIRouter(prefix="/chats", tags=["chats"], route_class=DatabaseRoute)
PerPage = Annotated[int, Query(ge=1, le=100, description="Items per page (max 100)")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor of the previous page")
]
FilterId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def cursor_answer(
    request: Request,
    items: list[dict[str, Any]],
    per_page: int,
    next_cursor: str | None,
    keep: dict[str, Any],
) -> dict[str, Any]:
    path = page_path(request)
    kept = {k: v for k, v in keep.items() if v is not None}
    next_url = None
    if next_cursor is not None:
        next_url = f"{path}?{urlencode({**kept, 'per_page': per_page, 'cursor': next_cursor})}"
    return {
        "data": items,
        "path": path,
        "per_page": per_page,
        "next_cursor": next_cursor,
        "next_page_url": next_url,
        "prev_cursor": None,
        "prev_page_url": None,
    }


def parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            {"updated_since": ["The updated since is not a valid date."]}
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_assigned(value: str | None) -> tuple[int | None, bool]:
    """``assigned``: a user id, or ``none`` for the unassigned."""
    if value is None:
        return None, False
    if value == "none":
        return None, True
    if value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value), False
    raise ValidationFailed({"assigned": ["The assigned must be a user id or none."]})


@router.get(
    "",
    name="chats.index",
    openapi_extra=route_doc(failure="list chats"),
    responses=api_responses(data=cursor_page(CHAT)),
)
async def index(
    request: Request,
    assigned: Annotated[
        str | None, Query(max_length=16, description="A user id, or `none` (unassigned)")
    ] = None,
    unread: bool | None = None,
    resolved: bool | None = None,
    contact_id: FilterId = None,
    updated_since: Annotated[
        str | None, Query(max_length=64, description="ISO-8601; chats changed since")
    ] = None,
    cursor_: Annotated[Cursor, Query(alias="cursor")] = None,
    per_page: PerPage = 15,
    ctx: ApiContext = Ability("chats.read"),
) -> Response:
    user_id, unassigned = parse_assigned(assigned)
    before = None
    if cursor_ is not None:
        position = cursor.decode(cursor_, ("t", "id"))
        before = (cursor.time_of(position, "t"), cursor.int_of(position, "id"))
    q = ChatQuery(
        assigned=user_id,
        unassigned=unassigned,
        unread=unread,
        resolved=resolved,
        contact_id=contact_id,
        updated_since=parse_since(updated_since),
        before=before,
        limit=per_page,
    )
    service = ChatService(ctx.session, ctx.workspace.id)
    found, more = await service.page(q)
    next_cursor = None
    if more and found:
        last = found[-1].chat
        assert last.last_message_at is not None
        next_cursor = cursor.encode({"t": last.last_message_at.isoformat(), "id": last.id})
    keep = {
        "assigned": assigned,
        "unread": None if unread is None else int(unread),
        "resolved": None if resolved is None else int(resolved),
        "contact_id": contact_id,
        "updated_since": updated_since,
    }
    items = await service.records(found)
    return success(cursor_answer(request, items, per_page, next_cursor, keep))


@router.get(
    "/{chat_id}",
    name="chats.show",
    openapi_extra=route_doc(failure="retrieve chat", not_found=CHAT_NOT_FOUND),
    responses=api_responses(data=CHAT, not_found=CHAT_NOT_FOUND),
)
async def show(chat_id: RecordId, ctx: ApiContext = Ability("chats.read")) -> Response:
    service = ChatService(ctx.session, ctx.workspace.id)
    return success((await service.records([await service.get(chat_id)]))[0])


@router.get(
    "/{chat_id}/messages",
    name="chats.messages",
    openapi_extra=route_doc(failure="list messages", not_found=CHAT_NOT_FOUND),
    responses=api_responses(data=cursor_page(MESSAGE), not_found=CHAT_NOT_FOUND),
)
async def messages(
    request: Request,
    chat_id: RecordId,
    since_id: Annotated[
        int | None,
        Query(ge=0, le=MAX_ID, description="Only messages after this id, oldest first"),
    ] = None,
    cursor_: Annotated[Cursor, Query(alias="cursor")] = None,
    per_page: PerPage = 50,
    ctx: ApiContext = Ability("chats.read"),
) -> Response:
    before = after = None
    if cursor_ is not None:
        position = cursor.decode(cursor_, ("k", "id"))
        if position["k"] not in ("before", "after"):
            raise ValidationFailed({"cursor": [cursor.INVALID]})
        if position["k"] == "after":
            after = cursor.int_of(position, "id")
        else:
            before = cursor.int_of(position, "id")
    elif since_id is not None:
        after = since_id
    service = ChatService(ctx.session, ctx.workspace.id)
    conversation = await service.get(chat_id)
    thread = await service.messages(chat_id, before=before, after=after, limit=per_page)
    name = conversation.name
    items = [message_record(m, thread.users, thread.tokens, name) for m in thread.messages]
    next_cursor = None
    if thread.more and thread.messages:
        key = "after" if after is not None else "before"
        next_cursor = cursor.encode({"k": key, "id": thread.messages[-1].id})
    return success(cursor_answer(request, items, per_page, next_cursor, {}))


@router.post(
    "/{chat_id}/assign",
    name="chats.assign",
    openapi_extra=route_doc(failure="assign chat", not_found=CHAT_NOT_FOUND, body=AssignIn),
    responses=api_responses(
        data=CHAT,
        message=("Chat assigned successfully", "Chat unassigned successfully"),
        not_found=CHAT_NOT_FOUND,
        body=True,
    ),
)
async def assign(
    request: Request, chat_id: RecordId, ctx: ApiContext = Ability("chats.update")
) -> Response:
    service = ChatService(ctx.session, ctx.workspace.id)
    conversation = await service.assign(chat_id, await json_body(request))
    message = (
        "Chat assigned successfully" if conversation.assignee else "Chat unassigned successfully"
    )
    return success((await service.records([conversation]))[0], message)


@router.post(
    "/{chat_id}/resolve",
    name="chats.resolve",
    openapi_extra=route_doc(failure="resolve chat", not_found=CHAT_NOT_FOUND),
    responses=api_responses(
        data=CHAT, message="Chat resolved successfully", not_found=CHAT_NOT_FOUND
    ),
)
async def resolve(chat_id: RecordId, ctx: ApiContext = Ability("chats.update")) -> Response:
    service = ChatService(ctx.session, ctx.workspace.id)
    conversation = await service.resolve(chat_id)
    return success((await service.records([conversation]))[0], "Chat resolved successfully")


@router.post(
    "/{chat_id}/reopen",
    name="chats.reopen",
    openapi_extra=route_doc(failure="reopen chat", not_found=CHAT_NOT_FOUND),
    responses=api_responses(
        data=CHAT, message="Chat reopened successfully", not_found=CHAT_NOT_FOUND
    ),
)
async def reopen(chat_id: RecordId, ctx: ApiContext = Ability("chats.update")) -> Response:
    service = ChatService(ctx.session, ctx.workspace.id)
    conversation = await service.reopen(chat_id)
    return success((await service.records([conversation]))[0], "Chat reopened successfully")
