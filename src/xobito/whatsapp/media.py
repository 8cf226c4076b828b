"""Inbound media (a customer's image, video, audio, document), as Meta serves it: ``GET
/{media-id}`` with the connection's token answers a short-lived URL, and ``GET <url>`` with
the same token answers the bytes. ``cloud`` and ``sandbox`` implement ``MediaSource``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from xobito.whatsapp.base import ConnectionInfo
from xobito.whatsapp.errors import WhatsAppError

# Hosts Meta hands media URLs out on; the token is sent to these (and to the Graph base URL's
# own host, where a test's fake serves them) and nowhere else.
META_MEDIA_HOSTS = (".fbsbx.com", ".facebook.com", ".fbcdn.net", ".whatsapp.net")


@dataclass(frozen=True, slots=True)
class MediaInfo:
    url: str
    mime_type: str
    file_size: int | None  # Meta's figure, when given


class MediaTooLarge(Exception):
    def __init__(self, limit: int, size: int | None = None) -> None:
        super().__init__(f"media larger than {limit} bytes")
        self.limit = limit
        self.size = size


@runtime_checkable
class MediaSource(Protocol):
    async def media_info(self, conn: ConnectionInfo, media_id: str) -> MediaInfo:
        """``GET /{media-id}``: the download URL, type and size."""
        ...

    async def download_media(self, conn: ConnectionInfo, url: str, max_bytes: int) -> bytes:
        """``GET <url>`` with the token; ``MediaTooLarge`` past ``max_bytes``."""
        ...


def parse_media_info(body: dict[str, Any]) -> MediaInfo:
    url, mime = body.get("url"), body.get("mime_type")
    if not isinstance(url, str) or not url:
        raise WhatsAppError("Graph API returned no media URL", retryable=False, raw=body)
    raw_size = body.get("file_size")
    try:
        size = int(raw_size) if raw_size is not None and not isinstance(raw_size, bool) else None
    except (TypeError, ValueError):
        size = None
    return MediaInfo(url, mime if isinstance(mime, str) else "application/octet-stream", size)


def may_receive_token(url: str, base_url: str) -> bool:
    """Whether the media URL's host may be sent the connection's token."""
    target, base = urlsplit(url), urlsplit(base_url)
    host = (target.hostname or "").lower()
    if target.scheme == base.scheme and target.netloc == base.netloc:  # never https -> http
        return True
    return target.scheme == "https" and any(host.endswith(h) for h in META_MEDIA_HOSTS)
