"""All SQL about contacts and their group membership."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, String, cast, delete, exists, func, insert, or_, select

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
        self, page: int, per_page: int, where: Sequence[ColumnElement[bool]]
    ) -> tuple[list[Row[Any]], dict[int, list[int]], int]:
        """One page, each contact's group ids and the total, in a single round trip.

        The list is the API's hottest read: the page, its count and the group memberships come
        back from one statement (a page CTE with a count and a string aggregate per row).
        """
        table = Contact.__table__
        conditions = [self.scope(), *where]
        page_cte = (
            select(table)
            .where(*conditions)
            .order_by(Contact.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
            .cte("page")
        )
        total = select(func.count()).select_from(table).where(*conditions).scalar_subquery()
        groups = (
            select(func.aggregate_strings(cast(ContactGroup.group_id, String), ","))
            .where(ContactGroup.contact_id == page_cte.c.id)
            .scalar_subquery()
        )
        stmt = select(page_cte, total.label("total_count"), groups.label("group_ids")).order_by(
            page_cte.c.id
        )
        rows = list((await self.session.execute(stmt)).all())
        if not rows:
            return [], {}, await self.count(*where)
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
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        full_name = Contact.firstname + " " + Contact.lastname
        where.append(
            or_(
                *(
                    col.ilike(pattern, escape="\\")
                    for col in (
                        Contact.firstname,
                        Contact.lastname,
                        full_name,
                        Contact.phone,
                        Contact.email,
                        Contact.company,
                    )
                )
            )
        )
    if type is not None:
        where.append(Contact.type == type)
    if status_id is not None:
        where.append(Contact.status_id == status_id)
    if source_id is not None:
        where.append(Contact.source_id == source_id)
    if group_id is not None:
        where.append(
            exists().where(ContactGroup.contact_id == Contact.id, ContactGroup.group_id == group_id)
        )
    if is_opted_out is not None:
        where.append(Contact.is_opted_out.is_(is_opted_out))
    return where
