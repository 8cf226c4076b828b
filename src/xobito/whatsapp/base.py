"""The interface every WhatsApp provider (Meta Cloud API, sandbox) implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What a provider needs to act for one WhatsApp number of one workspace."""

    phone_number_id: str
    waba_id: str
    access_token: str = field(repr=False)  # never in logs or reprs


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome of an accepted send: Meta's message id and the recipient's WhatsApp id."""

    wamid: str
    wa_id: str | None
    raw: dict[str, Any]
    # Template sends carry "accepted" (or "held_for_quality_assessment"); None otherwise.
    message_status: str | None = None


@runtime_checkable
class WhatsAppProvider(Protocol):
    """Sends messages for a connection. Every method raises ``WhatsAppError`` on failure."""

    async def send_message(self, conn: ConnectionInfo, payload: dict[str, Any]) -> SendResult:
        """POST a complete Meta message body (built by ``payloads``) to ``.../messages``."""
        ...

    async def upload_media(
        self, conn: ConnectionInfo, data: bytes, mime_type: str, filename: str
    ) -> str:
        """Upload a file to ``/{phone-number-id}/media``; returns Meta's media id."""
        ...

    async def list_templates(self, conn: ConnectionInfo) -> list[dict[str, Any]]:
        """All message templates of the connection's WABA, every cursor page followed."""
        ...

    async def close(self) -> None:
        """Release pooled resources (HTTP sessions). Safe to call more than once."""
        ...


@runtime_checkable
class ConnectionInspector(Protocol):
    """Reads a connection's state at Meta (the connection doctor); ``cloud`` implements it.
    Every method raises ``WhatsAppError`` on failure."""

    async def phone_number(self, conn: ConnectionInfo, phone_number_id: str) -> dict[str, Any]:
        """``GET /{Phone-Number-ID}``: the number as the token sees it."""
        ...

    async def waba_phone_numbers(self, conn: ConnectionInfo) -> list[dict[str, Any]]:
        """``GET /{WABA-ID}/phone_numbers``: every number of the WABA, with status, quality
        rating and messaging tier."""
        ...

    async def subscribed_apps(self, conn: ConnectionInfo) -> list[dict[str, Any]]:
        """``GET /{WABA-ID}/subscribed_apps``: ``{"id", "name"}`` of each subscribed app."""
        ...


@runtime_checkable
class ReadReceipts(Protocol):
    """Marks a customer's message read at Meta; ``cloud`` and ``sandbox`` implement it."""

    async def mark_read(self, conn: ConnectionInfo, wamid: str) -> None:
        """``POST /{phone-number-id}/messages`` ``{"status": "read", "message_id": ...}``."""
        ...
