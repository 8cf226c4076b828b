"""All SQL about contacts and their group membership."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)

from xobito.kit.repository import ScopedRepository
from xobito.models import Contact, ContactGroup


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

    async def set_groups(self, contact_id: int, group_ids: Sequence[int]) -> None:
        await self.session.execute(
            delete(ContactGroup).where(ContactGroup.contact_id == contact_id)
        )
        if group_ids:
            await self.session.execute(
                insert(ContactGroup),
                [{"contact_id": contact_id, "group_id": g} for g in group_ids],
            )

    async def page_with_groups(
        self, page: int, per_page: int, given: dict[str, Any]
    ) -> tuple[list[Row[Any]], dict[int, list[int]], int]:
        """One page, each contact's group ids and the total, in a single round trip.

        The list is the API's hottest read: the page, its count and the group memberships come
        back from one statement, built once per combination of filters and then only re-bound.
        """
        keys = frozenset(given)
        params = {
            **given,
            "workspace_id": self.workspace_id,
            "limit": per_page,
            "offset": (page - 1) * per_page,
        }
        rows = list((await self.session.execute(_page_statement(keys), params)).all())
        if not rows:
            total = (await self.session.execute(_count_statement(keys), params)).scalar_one()
            return [], {}, int(total)
        memberships = {
            r.id: sorted(int(g) for g in r.group_ids.split(",")) if r.group_ids else []
            for r in rows
        }
        return rows, memberships, int(rows[0].total_count)

    async def by_phone(self, phone: str) -> Contact | None:
        stmt = self.select().where(Contact.phone == phone)
        contact: Contact | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return contact


def filters(
    *,
    search: str | None,
    type: str | None,
    status_id: int | None,
    source_id: int | None,
    group_id: int | None,
    is_opted_out: bool | None,
) -> dict[str, Any]:
    """The given list filters as statement parameters (``search`` as an escaped pattern)."""
    given: dict[str, Any] = {
        "type": type,
        "status_id": status_id,
        "source_id": source_id,
        "group_id": group_id,
        "is_opted_out": is_opted_out,
    }
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        given["search"] = f"%{escaped}%"
    return {k: v for k, v in given.items() if v is not None}


def _search() -> ColumnElement[bool]:
    full_name = Contact.firstname + " " + Contact.lastname
    columns = (
        Contact.firstname,
        Contact.lastname,
        full_name,
        Contact.phone,
        Contact.email,
        Contact.company,
    )
    return or_(*(col.ilike(bindparam("search"), escape="\\") for col in columns))


_CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "search": _search,
    "type": lambda: Contact.type == bindparam("type"),
    "status_id": lambda: Contact.status_id == bindparam("status_id"),
    "source_id": lambda: Contact.source_id == bindparam("source_id"),
    "group_id": lambda: exists().where(
        ContactGroup.contact_id == Contact.id, ContactGroup.group_id == bindparam("group_id")
    ),
    "is_opted_out": lambda: Contact.is_opted_out == bindparam("is_opted_out"),
}


def _conditions(keys: frozenset[str]) -> list[ColumnElement[bool]]:
    return [
        Contact.workspace_id == bindparam("workspace_id"),
        *(_CONDITIONS[k]() for k in sorted(keys)),
    ]


@lru_cache(maxsize=64)
def _page_statement(keys: frozenset[str]) -> Select[Any]:
    table = Contact.__table__
    conditions = _conditions(keys)
    page = (
        select(table)
        .where(*conditions)
        .order_by(Contact.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .cte("page")
    )
    total = select(func.count()).select_from(table).where(*conditions).scalar_subquery()
    groups = (
        select(func.aggregate_strings(cast(ContactGroup.group_id, String), ","))
        .where(ContactGroup.contact_id == page.c.id)
        .scalar_subquery()
    )
    return select(page, total.label("total_count"), groups.label("group_ids")).order_by(page.c.id)


@lru_cache(maxsize=64)
def _count_statement(keys: frozenset[str]) -> Select[Any]:
    return select(func.count()).select_from(Contact.__table__).where(*_conditions(keys))
