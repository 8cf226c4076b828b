"""The ``sandbox`` provider: every send succeeds locally, no network, no Meta account.

Numbers ending in ``0000`` fail with Meta's error 131026 (message undeliverable), so the
failure path can be exercised too. The delivery statuses that follow a send are simulated by
the messaging service, which feeds Meta-shaped status webhooks through the inbox — the same
path real webhooks take.
"""

from __future__ import annotations

import base64
import secrets
import struct
import zlib
from pathlib import Path
from typing import Any

from xobito.whatsapp.base import ConnectionInfo, SendResult
from xobito.whatsapp.errors import WhatsAppError
from xobito.whatsapp.media import MediaInfo, MediaTooLarge

UNDELIVERABLE = 131026
MEDIA_URL = "sandbox:media/"


def _png(width: int = 32, height: int = 32, rgb: tuple[int, int, int] = (37, 211, 102)) -> bytes:
    """A small solid-colour PNG (the sandbox customer's photo)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
# A video and a voice note a browser plays: small files made with ffmpeg (how: their README).
_FILES = Path(__file__).with_name("sandbox_media")
# Sandbox media ids say which sample they are: "9" + the kind's digit + 14 random digits.
SAMPLES: dict[str, tuple[str, str, bytes]] = {
    "1": ("image", "image/png", _png()),
    "2": ("document", "application/pdf", _PDF),
    "3": ("video", "video/mp4", (_FILES / "sample.mp4").read_bytes()),
    # As Meta gives a customer's voice note: Ogg/Opus, the codec in the type.
    "4": ("audio", "audio/ogg; codecs=opus", (_FILES / "sample.ogg").read_bytes()),
}
KIND_DIGIT = {kind: digit for digit, (kind, _, _) in SAMPLES.items()}


def sandbox_media_id(kind: str) -> str:
    """A media id the sandbox serves a sample ``kind`` (image, document, video, audio) for."""
    return "9" + KIND_DIGIT[kind] + str(10**13 + secrets.randbelow(9 * 10**13))


def _sample(media_id: str) -> tuple[str, str, bytes]:
    found = SAMPLES.get(media_id[1:2]) if len(media_id) == 16 and media_id[0] == "9" else None
    if found is None or not media_id.isdigit():
        raise WhatsAppError(
            f"Unsupported get request. Object with ID '{media_id[:32]}' does not exist",
            code=100,
            http_status=400,
            retryable=False,
        )
    return found


def new_wamid() -> str:
    """A fresh id shaped like Meta's (``wamid.`` + base64)."""
    raw = b"\x15\x02\x00\x11\x18\x12" + secrets.token_bytes(18)
    return "wamid." + base64.urlsafe_b64encode(raw).decode()  # URL-safe: it ends up in paths


class SandboxProvider:
    simulates_statuses = True

    async def send_message(self, conn: ConnectionInfo, payload: dict[str, Any]) -> SendResult:
        to = str(payload.get("to", ""))
        if to.endswith("0000"):
            raise WhatsAppError(
                "Message undeliverable",
                code=UNDELIVERABLE,
                title="Message undeliverable",
                http_status=400,
                retryable=False,
            )
        wamid = new_wamid()
        raw: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}],
        }
        status = None
        if payload.get("type") == "template":
            status = "accepted"
            raw["messages"][0]["message_status"] = status
        return SendResult(wamid=wamid, wa_id=to, raw=raw, message_status=status)

    async def upload_media(
        self, conn: ConnectionInfo, data: bytes, mime_type: str, filename: str
    ) -> str:
        return str(10**15 + secrets.randbelow(10**15))

    async def mark_read(self, conn: ConnectionInfo, wamid: str) -> None:
        return None  # nobody is on the other end

    async def media_info(self, conn: ConnectionInfo, media_id: str) -> MediaInfo:
        _, mime, data = _sample(media_id)
        return MediaInfo(MEDIA_URL + media_id, mime, len(data))

    async def download_media(self, conn: ConnectionInfo, url: str, max_bytes: int) -> bytes:
        if not url.startswith(MEDIA_URL):
            raise WhatsAppError("Not a sandbox media URL", http_status=404, retryable=False)
        data = _sample(url.removeprefix(MEDIA_URL))[2]
        if len(data) > max_bytes:
            raise MediaTooLarge(max_bytes, len(data))
        return data

    async def list_templates(self, conn: ConnectionInfo) -> list[dict[str, Any]]:
        """The sandbox offers two approved templates so template sends can be tried."""
        return [
            {
                "id": "100000000000001",
                "name": "hello_world",
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "quality_score": {"score": "GREEN"},
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                    {
                        "type": "BODY",
                        "text": "Welcome and congratulations!! This message "
                        "demonstrates your ability to send a WhatsApp message notification.",
                    },
                    {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
                ],
            },
            {
                "id": "100000000000002",
                "name": "order_update",
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "quality_score": {"score": "UNKNOWN"},
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
                    {
                        "type": "BODY",
                        "text": "Hi {{1}}, your order {{2}} is on its way.",
                        "example": {"body_text": [["Maria", "#4521"]]},
                    },
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {"type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}"},
                        ],
                    },
                ],
            },
        ]

    async def close(self) -> None:
        return None
