"""Request bodies and records of statuses, sources and groups (docs/api/labels.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from xobito.kit.time import iso
from xobito.kit.validation import Len, RequestModel, Str255
from xobito.models import Group, Source, Status

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _hex_colour(value: str) -> str:
    if len(value) <= 7 and not _HEX.match(value):
        raise PydanticCustomError("format", "format")
    return value


class StatusIn(RequestModel):
    # docs/api/labels.md: ``min:3|max:255``, two rules with their own messages (not ``between``).
    name: Annotated[str, Len(min=3), Len(max=255)]
    color: Annotated[str, Len(max=7), AfterValidator(_hex_colour)] | None = None
    isdefault: bool | None = None


class SourceIn(RequestModel):
    name: Str255


class GroupIn(RequestModel):
    name: Str255


def status_record(s: Status) -> dict[str, Any]:
    return {
        "id": s.id,
        "tenant_id": s.workspace_id,
        "name": s.name,
        "color": s.color,
        "isdefault": int(s.isdefault),
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }


def named_record(s: Source | Group) -> dict[str, Any]:
    return {
        "id": s.id,
        "tenant_id": s.workspace_id,
        "name": s.name,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }
