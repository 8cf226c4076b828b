"""The audience query: the contacts a campaign (or any bulk job) reaches, in keyset batches.

An audience names groups, statuses, sources and types (a contact must match every kind
given, any value within a kind), explicit contact ids (added to what the filters match), or
``all``. Contacts come in id order, ``batch_size`` at a time, each batch one index range
after the last id seen (``id > after``), so a scan of a million contacts never uses OFFSET,
never holds a transaction between batches, and resumes from any id after a crash.

Opted-out contacts are left out unless ``include_opted_out`` (a campaign that counts its
exclusions by reason asks for them and gets ``is_opted_out`` with each row).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import Contact, ContactGroup

DEFAULT_COLUMNS: tuple[Any, ...] = (Contact.id, Contact.phone, Contact.is_opted_out)


@dataclass(frozen=True, slots=True)
class Audience:
    group_ids: tuple[int, ...] = ()
    status_ids: tuple[int, ...] = ()
    source_ids: tuple[int, ...] = ()
    types: tuple[str, ...] = ()
    contact_ids: tuple[int, ...] = ()
    all: bool = False

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> Audience:
        """From a mapping with these keys (e.g. a campaign's stored ``audience``)."""

        def ids(key: str) -> tuple[Any, ...]:
            return tuple(sorted(set(given.get(key) or ())))

        return cls(
            ids("group_ids"),
            ids("status_ids"),
            ids("source_ids"),
            ids("types"),
            ids("contact_ids"),
            bool(given.get("all")),
        )

    def condition(self) -> ColumnElement[bool]:
        if self.all:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.group_ids:
            parts.append(
                exists().where(
                    ContactGroup.contact_id == Contact.id,
                    ContactGroup.group_id.in_(self.group_ids),
                )
            )
        if self.status_ids:
            parts.append(Contact.status_id.in_(self.status_ids))
        if self.source_ids:
            parts.append(Contact.source_id.in_(self.source_ids))
        if self.types:
            parts.append(Contact.type.in_(self.types))
        matched = and_(*parts) if parts else None
        listed = Contact.id.in_(self.contact_ids) if self.contact_ids else None
        if matched is not None and listed is not None:
            return or_(matched, listed)
        return matched if matched is not None else listed if listed is not None else false()


def audience_select(
    workspace_id: int,
    audience: Audience,
    *,
    after_id: int = 0,
    limit: int = 1000,
    include_opted_out: bool = False,
    columns: Sequence[Any] = DEFAULT_COLUMNS,
) -> Select[Any]:
    """One batch's statement (extend it, e.g. ``.outerjoin(Chat, ...).add_columns(...)``)."""
    stmt = select(*columns).where(
        Contact.workspace_id == workspace_id, Contact.id > after_id, audience.condition()
    )
    if not include_opted_out:
        stmt = stmt.where(Contact.is_opted_out.is_(False))
    return stmt.order_by(Contact.id).limit(limit)


async def audience_batches(
    session: AsyncSession,
    workspace_id: int,
    audience: Audience,
    *,
    batch_size: int = 1000,
    after_id: int = 0,
    include_opted_out: bool = False,
    columns: Sequence[Any] = DEFAULT_COLUMNS,
) -> AsyncIterator[list[Row[Any]]]:
    """Every audience contact after ``after_id``, ``batch_size`` rows at a time."""
    while True:
        stmt = audience_select(
            workspace_id,
            audience,
            after_id=after_id,
            limit=batch_size,
            include_opted_out=include_opted_out,
            columns=columns,
        )
        rows = list((await session.execute(stmt)).all())
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return
        after_id = rows[-1].id
