"""All SQL about contacts and their group membership."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, insert, literal, select

from xobito.contact import listing
from xobito.contact.audience import Audience, audience_batches
from xobito.kit.repository import ScopedRepository
from xobito.kit.sql import (
    copy_rows,
    dialect_of,
    insert_ignoring_duplicates,
    next_ids,
    value_rows,
)
from xobito.kit.time import utcnow
from xobito.models import Contact, ContactGroup

PAGING = frozenset({"workspace_id", "limit", "offset"})


class ContactRepository(ScopedRepository[Contact]):
    model = Contact

    async def groups_of(self, contact_ids: Sequence[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        if not contact_ids:
            return out
        stmt = (
            select(ContactGroup.contact_id, ContactGroup.group_id)
            .where(ContactGroup.contact_id.in_(list(contact_ids)))
            .order_by(ContactGroup.group_id)
        )
        for contact_id, group_id in (await self.session.execute(stmt)).all():
            out[contact_id].append(group_id)
        return out

    async def set_groups(
        self, contact_id: int, group_ids: Sequence[int], *, new: bool = False
    ) -> None:
        """Replace the membership (``new``: the contact has none yet) in one statement or
        two, whatever the number of groups."""
        if not new:
            await self.session.execute(
                delete(ContactGroup).where(ContactGroup.contact_id == contact_id)
            )
        if group_ids:
            rows = value_rows(dialect_of(self.session), group_ids)
            await self.session.execute(
                insert(ContactGroup).from_select(
                    ["contact_id", "group_id"], select(literal(contact_id), rows.c.value)
                )
            )

    async def page_with_groups(
        self, page: int, per_page: int, given: dict[str, Any], sort: str = "id"
    ) -> tuple[list[Row[Any]], dict[int, list[int]], int]:
        """One page, each contact's group ids and the total, in a single round trip."""
        params = self._page_params(page, per_page, given)
        keys = frozenset(params) - PAGING
        deep = listing.deep(keys, sort, params["offset"], dialect_of(self.session))
        statement = listing.rows_statement(keys, sort, deep)
        rows = list((await self.session.execute(statement, params)).all())
        if not rows:
            count = listing.count_statement(keys)
            return [], {}, int((await self.session.execute(count, params)).scalar_one())
        memberships = {
            r.id: sorted(int(g) for g in r.group_ids.split(",")) if r.group_ids else []
            for r in rows
        }
        return rows, memberships, int(rows[0].total_count)

    async def after(
        self, after_id: int, limit: int, given: dict[str, Any]
    ) -> tuple[list[Row[Any]], dict[int, list[int]]]:
        """Up to ``limit`` contacts matching ``given`` with ids above ``after_id``, in id
        order, and each one's group ids."""
        params = {
            **listing.narrowed(given, dialect_of(self.session)),
            "workspace_id": self.workspace_id,
            "after": after_id,
            "limit": limit,
        }
        statement = listing.after_statement(frozenset(params) - PAGING - {"after"})
        rows = list((await self.session.execute(statement, params)).all())
        memberships = {
            r.id: sorted(int(g) for g in r.group_ids.split(",")) if r.group_ids else []
            for r in rows
        }
        return rows, memberships

    async def page_json(
        self, page: int, per_page: int, given: dict[str, Any]
    ) -> tuple[bytes, int, int] | None:
        """PostgreSQL only (else None): the page as JSON bytes, its size and the total,
        rendered by the database and fetched on the driver connection in one round trip."""
        if self.session.bind is None or self.session.bind.dialect.name != "postgresql":
            return None
        params = self._page_params(page, per_page, given)
        keys = frozenset(params) - PAGING
        deep = listing.deep(keys, "id", params["offset"], "postgresql")
        sql, names, constants = listing.pg_json_statement(keys, deep)
        params = {**constants, **params}
        connection = await (await self.session.connection()).get_raw_connection()
        row = await connection.driver_connection.fetchrow(  # type: ignore[union-attr]
            sql, *(params[n] for n in names)
        )
        return row["data"].encode(), int(row["n"]), int(row["total"])

    def _page_params(self, page: int, per_page: int, given: dict[str, Any]) -> dict[str, Any]:
        return {
            **listing.narrowed(given, dialect_of(self.session)),
            "workspace_id": self.workspace_id,
            "limit": per_page,
            "offset": (page - 1) * per_page,
        }

    async def count(self, *where: ColumnElement[bool]) -> int:
        """How many contacts the workspace has (from its tally, not counted) or, given
        conditions, how many of them match."""
        if where:
            return await super().count(*where)
        statement = listing.count_statement(frozenset())
        params = {"workspace_id": self.workspace_id}
        return int((await self.session.execute(statement, params)).scalar_one())

    async def email_taken(self, email: str, exclude_id: int | None = None) -> bool:
        """Emails are unique regardless of case (the index on ``lower(email)``)."""
        stmt = select(Contact.id).where(
            self.scope(), func.lower(Contact.email) == func.lower(email)
        )
        if exclude_id is not None:
            stmt = stmt.where(Contact.id != exclude_id)
        return (await self.session.execute(stmt.limit(1))).first() is not None

    async def by_ids(self, ids: Sequence[int]) -> list[Contact]:
        if not ids:
            return []
        stmt = self.select().where(Contact.id.in_(list(ids))).order_by(Contact.id)
        return list((await self.session.execute(stmt)).scalars().all())

    async def by_phone(self, phone: str) -> Contact | None:
        stmt = self.select().where(Contact.phone == phone)
        contact: Contact | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return contact

    async def by_phones(self, phones: Collection[str]) -> dict[str, Contact]:
        """``by_phone`` for many numbers in one query (absent numbers are left out)."""
        if not phones:
            return {}
        stmt = self.select().where(Contact.phone.in_(list(phones)))
        found: Sequence[Contact] = (await self.session.execute(stmt)).scalars().all()
        return {c.phone: c for c in found}

    async def phones_taken(self, phones: Collection[str]) -> set[str]:
        """Which of these phones a contact of the workspace already has."""
        if not phones:
            return set()
        rows = value_rows(dialect_of(self.session), sorted(phones))
        stmt = select(Contact.phone).where(
            self.scope(), Contact.phone.in_(select(rows.c.value).scalar_subquery())
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def emails_taken(self, emails: Collection[str]) -> set[str]:
        """Which of these emails (compared lower-cased, as the unique index does) a contact
        of the workspace already has; returned lower-cased."""
        if not emails:
            return set()
        rows = value_rows(dialect_of(self.session), sorted({e.lower() for e in emails}))
        stmt = select(func.lower(Contact.email)).where(
            self.scope(), func.lower(Contact.email).in_(select(rows.c.value).scalar_subquery())
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def insert_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """New contacts (column values, ``workspace_id`` added), their ids in order (every
        row has the same keys). PostgreSQL: the ids first, then one COPY."""
        if not rows:
            return []
        if dialect_of(self.session) == "postgresql":
            ids = await next_ids(self.session, "contacts", len(rows))
            # COPY knows no Python-side defaults: the model's, for the columns not given.
            now = utcnow()
            defaults = {"is_enabled": True, "is_opted_out": False, "created_at": now}
            missing = {k: v for k, v in defaults.items() if k not in rows[0]}
            same = "updated_at" not in rows[0]  # updated_at = created_at, as the model does
            columns = ["id", "workspace_id", *rows[0], *missing, *(["updated_at"] if same else [])]
            ws, extra = self.workspace_id, tuple(missing.values())
            records = [
                (i, ws, *r.values(), *extra, *((r.get("created_at", now),) if same else ()))
                for i, r in zip(ids, rows, strict=True)
            ]
            await copy_rows(self.session, "contacts", columns, records)
            return ids
        stmt = insert(Contact).returning(Contact.id, sort_by_parameter_order=True)
        values = [{**r, "workspace_id": self.workspace_id} for r in rows]
        return list((await self.session.execute(stmt, values)).scalars().all())

    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> dict[str, Contact]:
        """Contacts whose numbers the workspace has none of, in one statement; a number a
        concurrent transaction committed first is skipped (the caller looks it up). Returns
        the inserted ones by phone, loaded."""
        if not rows:
            return {}
        stmt = (
            insert_ignoring_duplicates(dialect_of(self.session), Contact)
            .on_conflict_do_nothing(index_elements=["workspace_id", "phone"])
            .returning(Contact)
        )
        # Rows as parameters: the statement compiles once whatever their count.
        values = [{**r, "workspace_id": self.workspace_id} for r in rows]
        return {c.phone: c for c in (await self.session.scalars(stmt, values)).all()}

    async def add_memberships(self, pairs: Sequence[tuple[int, int]]) -> None:
        """``(contact_id, group_id)`` rows for contacts that have none yet."""
        if not pairs:
            return
        if dialect_of(self.session) == "postgresql":
            await copy_rows(self.session, "contact_groups", ("contact_id", "group_id"), pairs)
            return
        await self.session.execute(
            insert(ContactGroup), [{"contact_id": c, "group_id": g} for c, g in pairs]
        )

    def audience(
        self, audience: Audience, *, batch_size: int = 1000, after_id: int = 0, **options: Any
    ) -> AsyncIterator[list[Row[Any]]]:
        """The audience's contacts in keyset batches (``contact.audience``)."""
        return audience_batches(
            self.session,
            self.workspace_id,
            audience,
            batch_size=batch_size,
            after_id=after_id,
            **options,
        )
