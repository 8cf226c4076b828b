"""What the fake Graph server records and how failures are programmed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    query: dict[str, str]
    json: Any = None  # parsed JSON body, if any
    form: dict[str, Any] | None = None  # multipart fields; files as {filename, content_type, size}


@dataclass(frozen=True, slots=True)
class SentMessage:
    wamid: str
    wa_id: str
    phone_number_id: str
    body: dict[str, Any]
    at: float = 0.0  # time.monotonic() when accepted (pacing tests)


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    path: str
    body: Any
    errors: list[str]


@dataclass(frozen=True, slots=True)
class UploadedMedia:
    media_id: str
    phone_number_id: str
    filename: str
    mime_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ProgrammedFailure:
    http_status: int
    code: int
    message: str | None = None
    details: str | None = None
    endpoint: str | None = None  # "messages" | "media" | "message_templates"; None = any
