"""Admin API bodies and the workspace record as returned."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from xobito.kit.time import iso
from xobito.kit.validation import RequestModel, Str255
from xobito.models import Workspace

_SUBDOMAIN = re.compile(r"^[a-z0-9-]{1,63}$")


def _subdomain(value: str) -> str:
    if not _SUBDOMAIN.match(value):
        raise PydanticCustomError("format", "format")
    return value


Subdomain = Annotated[
    str, AfterValidator(_subdomain), Field(json_schema_extra={"pattern": "^[a-z0-9-]{1,63}$"})
]
PositiveInt = Annotated[int, Field(ge=1, le=2_000_000_000)]


class WorkspaceCreate(RequestModel):
    subdomain: Subdomain
    name: Str255
    max_contacts: PositiveInt | None = None
    rate_limit_max: PositiveInt | None = None
    rate_limit_decay: PositiveInt | None = None
    enforce_care_window: bool | None = None


class WorkspaceUpdate(RequestModel):
    name: Str255 | None = None
    max_contacts: PositiveInt | None = None
    rate_limit_max: PositiveInt | None = None
    rate_limit_decay: PositiveInt | None = None
    enforce_care_window: bool | None = None


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    """An immutable snapshot of a workspace, safe to cache between requests."""

    id: int
    subdomain: str
    name: str
    max_contacts: int | None
    rate_limit_max: int
    rate_limit_decay: int
    enforce_care_window: bool

    @classmethod
    def of(cls, ws: Workspace) -> WorkspaceInfo:
        return cls(
            ws.id,
            ws.subdomain,
            ws.name,
            ws.max_contacts,
            ws.rate_limit_max,
            ws.rate_limit_decay,
            ws.enforce_care_window,
        )


def workspace_record(ws: Workspace) -> dict[str, Any]:
    return {
        "id": ws.id,
        "subdomain": ws.subdomain,
        "name": ws.name,
        "max_contacts": ws.max_contacts,
        "rate_limit_max": ws.rate_limit_max,
        "rate_limit_decay": ws.rate_limit_decay,
        "enforce_care_window": int(ws.enforce_care_window),
        "whatsapp_provider": ws.whatsapp_provider,
        "created_at": iso(ws.created_at),
        "updated_at": iso(ws.updated_at),
    }
