"""Token bodies, the token record, and the cached snapshot used on every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

from xobito.auth.abilities import ABILITIES
from xobito.kit.time import iso, utcnow
from xobito.kit.validation import RequestModel, Str255
from xobito.models import ApiToken


def _ability(value: str) -> str:
    if value not in ABILITIES:
        raise PydanticCustomError("in", "in")
    return value


def _future(value: datetime) -> datetime:
    if value <= utcnow():
        raise PydanticCustomError(
            "message", "{message}", {"message": "The expires at must be a date after now."}
        )
    return value


Ability = Annotated[
    str, AfterValidator(_ability), Field(json_schema_extra={"enum": list(ABILITIES)})
]


class TokenCreate(RequestModel):
    name: Str255
    abilities: Annotated[list[Ability], Field(min_length=1)]
    rate_limit_max: Annotated[int, Field(ge=1, le=2_000_000_000)] | None = None
    monthly_quota: Annotated[int, Field(ge=1, le=2_000_000_000)] | None = None
    expires_at: Annotated[AwareDatetime, AfterValidator(_future)] | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An immutable snapshot of a token, safe to cache for ``auth_cache_seconds``."""

    id: int
    workspace_id: int
    abilities: frozenset[str]
    rate_limit_max: int | None
    monthly_quota: int | None
    expires_at: datetime | None
    is_active: bool
    last_used_at: datetime | None
    name: str = ""
    prefix: str = ""

    @classmethod
    def of(cls, token: ApiToken) -> TokenInfo:
        return cls(
            token.id,
            token.workspace_id,
            frozenset(token.abilities),
            token.rate_limit_max,
            token.monthly_quota,
            token.expires_at,
            token.is_active,
            token.last_used_at,
            token.name,
            token.token_prefix,
        )

    def usable(self, now: datetime) -> bool:
        return self.is_active and (self.expires_at is None or self.expires_at > now)


def token_record(token: ApiToken, plaintext: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": token.id,
        "tenant_id": token.workspace_id,
        "name": token.name,
        "token_prefix": token.token_prefix,
        "abilities": list(token.abilities),
        "rate_limit_max": token.rate_limit_max,
        "monthly_quota": token.monthly_quota,
        "expires_at": iso(token.expires_at),
        "is_active": int(token.is_active),
        "last_used_at": iso(token.last_used_at),
        "created_at": iso(token.created_at),
        "updated_at": iso(token.updated_at),
    }
    if plaintext is not None:
        record["token"] = plaintext
    return record
