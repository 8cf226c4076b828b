"""A customer's media in the inbox, proxied: ``/app/<sub>/media/<message id>`` asks Meta for
the message's media (``GET /{media-id}``, then its URL) with the connection's token and
answers the bytes, so the browser never sees the token or Meta's URL. Larger than
``XOBITO_INBOX_MEDIA_MAX_BYTES``: not downloaded, a 413 page says so.

A message's media never changes, so the browser keeps it (private: it is the workspace's) and
revalidates with its ETag: a match answers 304 without asking Meta again."""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.connection.service import NOT_CONNECTED, ConnectionService
from xobito.kit.db import checkpoint
from xobito.kit.errors import NotFound
from xobito.kit.params import RecordId
from xobito.message.repository import MessageRepository
from xobito.web.deps import Member, Role
from xobito.web.errors import error_page
from xobito.whatsapp.errors import WhatsAppError
from xobito.whatsapp.media import MediaSource, MediaTooLarge

router = APIRouter(prefix="/{subdomain}/media", route_class=DatabaseRoute)
# Shown in the page (inline); anything else is a download, never rendered by the browser.
INLINE = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "video/mp4",
    "video/3gpp",
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
CACHE = "private, max-age=86400, immutable"


def size_in_words(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.0f} MB"
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


def media_etag(workspace_id: int, message_id: int, media_id: str) -> str:
    """Names the message's media without showing Meta's id (the page never does either)."""
    digest = hashlib.sha256(f"{workspace_id}:{message_id}:{media_id}".encode()).hexdigest()
    return f'"{digest[:32]}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison: any listed tag, ``W/`` or not, or ``*``."""
    tags = (tag.strip() for tag in (if_none_match or "").split(","))
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


@router.get("/{message_id}", name="web.media")
async def media(request: Request, message_id: RecordId, member: Member = Role("agent")) -> Response:
    message = await MessageRepository(member.session, member.workspace.id).get(message_id)
    found = (message.payload or {}).get("media") if message is not None else None
    if message is None or not isinstance(found, dict) or not found.get("id"):
        raise NotFound("Media not found")
    etag = media_etag(member.workspace.id, message.id, str(found["id"]))
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE})
    link = await ConnectionService(member.session).link(member.workspace.id)
    if link is None:
        return error_page(request, 409, NOT_CONNECTED)
    provider = request.app.state.providers.get(link.provider)
    if not isinstance(provider, MediaSource):
        return error_page(request, 502, "This workspace's WhatsApp connection cannot fetch media.")
    limit: int = request.app.state.settings.inbox_media_max_bytes
    # Nothing more is read: no connection (on SQLite: the only one) held while Meta answers.
    await checkpoint(member.session)
    too_large = (
        f"The file is larger than this inbox's limit of {size_in_words(limit)} "
        "(XOBITO_INBOX_MEDIA_MAX_BYTES), so it was not downloaded."
    )
    try:
        info = await provider.media_info(link.info, str(found["id"]))
        if info.file_size is not None and info.file_size > limit:
            return error_page(request, 413, too_large)
        data = await provider.download_media(link.info, info.url, limit)
    except MediaTooLarge:
        return error_page(request, 413, too_large)
    except WhatsAppError as exc:
        return error_page(request, 502, f"Meta did not give the file: {exc.message}")
    mime = info.mime_type.split(";", 1)[0].strip().lower()
    headers = {"Cache-Control": CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if mime not in INLINE:
        name = SAFE_NAME.sub("_", str(found.get("filename") or "document"))[:120] or "document"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        mime = mime if re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", mime) else ""
    return Response(data, media_type=mime or "application/octet-stream", headers=headers)
