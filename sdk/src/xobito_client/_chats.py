"""The team inbox (beyond Xobito v1): ``client.chats`` and ``client.messages.timeline``.

>>> from xobito_client._chats import list_chats
>>> op = list_chats({"assigned": "none", "unread": True}, None, 20)
>>> op.path, dict(op.params)["unread"]
('/chats', 'true')
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import quote

from xobito_client._core import Operation
from xobito_client.models import Chat, ChatMessage, CursorPage, Timeline

if TYPE_CHECKING:
    from xobito_client._async import AsyncClient
    from xobito_client._sync import Client


class ChatFilters(TypedDict, total=False):
    """``assigned``: a user id or ``"none"``; ``updated_since``: ISO-8601."""

    assigned: int | str
    unread: bool
    resolved: bool
    contact_id: int
    updated_since: str


def _data(body: Any) -> Any:
    return body["data"]


def _chat(body: Any) -> Chat:
    return Chat.model_validate(body["data"])


def _chats(body: Any) -> CursorPage[Chat]:
    return CursorPage[Chat].model_validate(body["data"])


def _messages(body: Any) -> CursorPage[ChatMessage]:
    return CursorPage[ChatMessage].model_validate(body["data"])


def _timeline(body: Any) -> Timeline:
    return Timeline.model_validate(body["data"])


def _flag(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def list_chats(
    filters: Mapping[str, Any], cursor: str | None, per_page: int | None
) -> Operation[CursorPage[Chat]]:
    params = {k: _flag(v) for k, v in filters.items() if v is not None}
    params.update({"cursor": cursor, "per_page": per_page})
    return Operation("GET", "/chats", _chats, params=params)


def get_chat(chat_id: int) -> Operation[Chat]:
    return Operation("GET", f"/chats/{int(chat_id)}", _chat)


def chat_messages(
    chat_id: int, cursor: str | None, since_id: int | None, per_page: int | None
) -> Operation[CursorPage[ChatMessage]]:
    params = {"cursor": cursor, "since_id": since_id, "per_page": per_page}
    return Operation("GET", f"/chats/{int(chat_id)}/messages", _messages, params=params)


def assign(chat_id: int, user_id: int | None) -> Operation[Chat]:
    return Operation("POST", f"/chats/{int(chat_id)}/assign", _chat, json={"user_id": user_id})


def change(chat_id: int, action: str) -> Operation[Chat]:
    return Operation("POST", f"/chats/{int(chat_id)}/{action}", _chat, json={})


def timeline(message_id: str | int) -> Operation[Timeline]:
    return Operation("GET", f"/messages/{quote(str(message_id), safe='')}/timeline", _timeline)


class Chats:
    """``client.chats`` of :class:`~xobito_client.Client`."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self, *, cursor: str | None = None, per_page: int | None = None, **filters: Any
    ) -> CursorPage[Chat]:
        """Conversations, newest activity first; filters as :class:`ChatFilters`."""
        return self._client.request(list_chats(filters, cursor, per_page))

    def iter(self, *, per_page: int | None = None, **filters: Any) -> Iterator[Chat]:
        cursor: str | None = None
        while True:
            page = self.list(cursor=cursor, per_page=per_page, **filters)
            yield from page.data
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, chat_id: int) -> Chat:
        return self._client.request(get_chat(chat_id))

    def messages(
        self,
        chat_id: int,
        *,
        cursor: str | None = None,
        since_id: int | None = None,
        per_page: int | None = None,
    ) -> CursorPage[ChatMessage]:
        """Newest first (older pages by ``cursor``), or with ``since_id`` the messages after
        that id, oldest first."""
        return self._client.request(chat_messages(chat_id, cursor, since_id, per_page))

    def assign(self, chat_id: int, user_id: int | None) -> Chat:
        """To a member of the workspace; ``None`` unassigns."""
        return self._client.request(assign(chat_id, user_id))

    def resolve(self, chat_id: int) -> Chat:
        return self._client.request(change(chat_id, "resolve"))

    def reopen(self, chat_id: int) -> Chat:
        return self._client.request(change(chat_id, "reopen"))


class AsyncChats:
    """``client.chats`` of :class:`~xobito_client.AsyncClient`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self, *, cursor: str | None = None, per_page: int | None = None, **filters: Any
    ) -> CursorPage[Chat]:
        return await self._client.request(list_chats(filters, cursor, per_page))

    async def iter(self, *, per_page: int | None = None, **filters: Any) -> AsyncIterator[Chat]:
        cursor: str | None = None
        while True:
            page = await self.list(cursor=cursor, per_page=per_page, **filters)
            for chat in page.data:
                yield chat
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, chat_id: int) -> Chat:
        return await self._client.request(get_chat(chat_id))

    async def messages(
        self,
        chat_id: int,
        *,
        cursor: str | None = None,
        since_id: int | None = None,
        per_page: int | None = None,
    ) -> CursorPage[ChatMessage]:
        return await self._client.request(chat_messages(chat_id, cursor, since_id, per_page))

    async def assign(self, chat_id: int, user_id: int | None) -> Chat:
        return await self._client.request(assign(chat_id, user_id))

    async def resolve(self, chat_id: int) -> Chat:
        return await self._client.request(change(chat_id, "resolve"))

    async def reopen(self, chat_id: int) -> Chat:
        return await self._client.request(change(chat_id, "reopen"))
