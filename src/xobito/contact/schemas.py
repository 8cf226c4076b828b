"""Contact bodies, list filters and the contact record."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import Row

from xobito.kit.phone import to_e164
from xobito.kit.time import iso
from xobito.kit.validation import Email, Len, RequestModel, Str255, item_errors
from xobito.models import Contact

# Integers are 32-bit columns; anything outside is refused before it reaches the database.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]


def _phone(value: str) -> str:
    e164 = to_e164(value)
    if e164 is None:
        raise PydanticCustomError("format", "format")
    return e164


MAX_GROUPS = 50
GROUP_NAME_MAX = 255


def _group_names(value: str) -> str:
    """``groups`` names at most 50 groups (after trimming, empty parts and repeats dropped,
    as ``group_names`` reads it), each at most 255 characters; a long one is reported as
    ``groups.<position in that list>``. A request can then create no more than 50 groups."""
    names = group_names(value)
    if len(names) > MAX_GROUPS:
        raise PydanticCustomError("too_long", "too_long", {"max_length": MAX_GROUPS})
    long = [i for i, name in enumerate(names) if len(name) > GROUP_NAME_MAX]
    if long:
        raise item_errors("max_string", {"max": GROUP_NAME_MAX}, long)
    return value


Phone = Annotated[str, Len(max=20), AfterValidator(_phone)]
GroupNames = Annotated[str, AfterValidator(_group_names)]


class ContactCreate(RequestModel):
    # Field order is the order errors are reported in.
    firstname: Str255
    lastname: Str255 | None = None
    phone: Phone
    email: Email | None = None
    type: Literal["lead", "customer"]
    # Any integer: one outside the id range names no record ("The selected ... is invalid.").
    source_id: int
    status_id: int
    company: Str255 | None = None
    description: str | None = None
    country_id: Int32 | None = None
    assigned_id: Int32 | None = None
    groups: GroupNames | None = None
    zip: Str255 | None = None
    city: Str255 | None = None
    state: Str255 | None = None
    address: Annotated[str, Len(max=1000)] | None = None
    website: Str255 | None = None


class ContactUpdate(ContactCreate):
    """PUT: ``lastname`` becomes required; ``source_id``/``status_id`` optional and nullable."""

    lastname: Str255
    source_id: int | None = None  # type: ignore[assignment]
    status_id: int | None = None  # type: ignore[assignment]


def group_names(raw: str | None) -> list[str]:
    """``"vip, , new"`` → ``["vip", "new"]`` (trimmed, empty parts ignored, first wins)."""
    if not raw:
        return []
    if len(raw) > GROUPS_CACHED_LENGTH:
        return list(_split_group_names(raw))
    return list(_cached_group_names(raw))


# An import names the same few group lists on every row, and each row's list is read twice
# (the validator, then the writer): short ones are cached. Long ones are not, so a client's
# megabyte of names (refused later, or not) cannot pin memory in the cache.
GROUPS_CACHED_LENGTH = 512


def _split_group_names(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


_cached_group_names = lru_cache(maxsize=4096)(_split_group_names)


COLUMNS = (
    "firstname",
    "lastname",
    "company",
    "type",
    "description",
    "country_id",
    "zip",
    "city",
    "state",
    "address",
    "website",
    "email",
    "phone",
    "source_id",
    "status_id",
    "assigned_id",
)


def contact_record(c: Contact | Row[Any], group_ids: Sequence[int]) -> dict[str, Any]:
    """The API's contact record, from an ORM object or a row with the same columns."""
    return {
        "id": c.id,
        "tenant_id": c.workspace_id,
        "firstname": c.firstname,
        "lastname": c.lastname,
        "company": c.company,
        "type": c.type,
        "description": c.description,
        "country_id": c.country_id,
        "zip": c.zip,
        "city": c.city,
        "state": c.state,
        "address": c.address,
        "website": c.website,
        "email": c.email,
        "phone": c.phone,
        "source_id": c.source_id,
        "status_id": c.status_id,
        "assigned_id": c.assigned_id,
        "group_id": list(group_ids),
        "is_enabled": int(c.is_enabled),
        "is_opted_out": int(c.is_opted_out),
        "opted_out_at": iso(c.opted_out_at),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }
