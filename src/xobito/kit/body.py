"""Reading request bodies: size limit (413) and malformed JSON (422), before validation."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from xobito.kit.errors import PayloadTooLarge, ValidationFailed
from xobito.kit.validation import clean_input

MALFORMED = {"body": ["The request body must be valid JSON."]}


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("The request body is too large.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("The request body is too large.")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # let later readers (idempotency hashing) reuse it
    return body


async def json_body(request: Request) -> Any:
    """The parsed, Laravel-cleaned JSON body; an empty body counts as ``{}``."""
    limit: int = request.app.state.settings.max_json_body_bytes
    raw = await read_limited(request, limit) if not hasattr(request, "_body") else request._body
    if not raw.strip():
        return {}
    try:
        return clean_input(orjson.loads(raw))
    except orjson.JSONDecodeError:
        raise ValidationFailed(MALFORMED) from None
