"""Streaming a workspace's contacts out as CSV, in constant memory.

Contacts are read in keyset batches (``id > last`` in id order, the list's filters applied),
each batch in its own short read, so an export of a million rows never holds a connection or
a transaction for long (on SQLite, the process's only connection). A contact that exists for
the whole export appears exactly once; one created or deleted meanwhile may or may not.

The header is the import's: the API's field names (``groups`` as comma-separated names), then
the read-only ``id``, flags and timestamps, which an import ignores, so an export can be
imported again. Text cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return) are prefixed with ``'``; the import removes it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.contact import listing
from xobito.contact.csv_rows import FIELDS, FORMULA_START
from xobito.contact.repository import ContactRepository
from xobito.kit.sql import dialect_of
from xobito.kit.time import iso
from xobito.label.repository import GroupRepository
from xobito.models import Contact, Group

BATCH_SIZE = 5000
HEADER = ("id", *FIELDS, "is_enabled", "is_opted_out", "opted_out_at", "created_at", "updated_at")
TEXT = {
    "firstname",
    "lastname",
    "email",
    "groups",
    "company",
    "description",
    "zip",
    "city",
    "state",
    "address",
    "website",
}


@lru_cache(maxsize=64)
def batch_statement(keys: frozenset[str]) -> Select[Any]:
    """The next ``limit`` contacts after id ``after`` matching the list filters ``keys``."""
    return (
        select(listing.TABLE)
        .where(*listing.conditions(keys), Contact.id > bindparam("after"))
        .order_by(Contact.id)
        .limit(bindparam("limit"))
    )


def escape(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if name in ("opted_out_at", "created_at", "updated_at"):
        return iso(value) or ""
    text = str(value)
    return escape(text) if name in TEXT else text


async def export_csv(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace_id: int,
    where: dict[str, Any] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> AsyncIterator[str]:
    """The CSV text, one chunk per batch (the header first). ``where``: the list's filters
    as ``listing.filters`` gives them."""
    given = dict(where or {})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield _drain(buffer)
    names: dict[int, str] = {}
    after = 0
    while True:
        async with sessionmaker() as session:
            narrowed = listing.narrowed(given, dialect_of(session))
            statement = batch_statement(frozenset(narrowed))
            params = {**narrowed, "workspace_id": workspace_id, "after": after, "limit": batch_size}
            rows = (await session.execute(statement, params)).all()
            if not rows:
                return
            groups = await ContactRepository(session, workspace_id).groups_of([r.id for r in rows])
            unknown = {g for ids in groups.values() for g in ids} - names.keys()
            if unknown:
                names.update(await _group_names(session, workspace_id, unknown))
        for row in rows:
            values = row._mapping
            group_list = ", ".join(names[g] for g in groups.get(row.id, ()) if g in names)
            writer.writerow(
                [_cell(h, (group_list or None) if h == "groups" else values[h]) for h in HEADER]
            )
        yield _drain(buffer)
        after = rows[-1].id
        if len(rows) < batch_size:
            return


async def _group_names(session: AsyncSession, workspace_id: int, ids: set[int]) -> dict[int, str]:
    repo = GroupRepository(session, workspace_id)
    stmt = select(Group.id, Group.name).where(repo.scope(), Group.id.in_(sorted(ids)))
    return {gid: name for gid, name in await session.execute(stmt)}


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
