"""``multipart/form-data`` bodies: fields (``a[b]`` nesting as Laravel reads it) and files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from xobito.kit.body import read_limited
from xobito.kit.errors import ValidationFailed
from xobito.kit.validation import clean_input

_NESTED = re.compile(r"^([^\[\]]+)\[([^\[\]]+)\]$")


@dataclass(frozen=True, slots=True)
class FilePart:
    field: str
    filename: str
    content_type: str
    data: bytes


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


async def read_form(request: Request, limit: int) -> tuple[dict[str, Any], dict[str, FilePart]]:
    """Fields (cleaned like JSON input) and files of a multipart body of at most ``limit``."""
    await read_limited(request, limit)
    try:
        form = await request.form(max_files=10, max_fields=100, max_part_size=1024 * 1024)
    except Exception:  # malformed multipart: python-multipart raises several types
        raise ValidationFailed(
            {"body": ["The request body must be valid multipart form data."]}
        ) from None
    fields: dict[str, Any] = {}
    files: dict[str, FilePart] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            if value.filename or data:
                files[key] = FilePart(key, value.filename or key, value.content_type or "", data)
            continue
        nested = _NESTED.match(key)
        if nested:
            parent = fields.setdefault(nested.group(1), {})
            if isinstance(parent, dict):
                parent[nested.group(2)] = value
        else:
            fields[key] = value
    await form.close()
    return clean_input(fields), files
