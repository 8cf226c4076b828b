"""Rules for contacts: uniqueness, references, groups, plan limit (docs/api/contacts.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.contact.repository import ContactRepository
from xobito.contact.schemas import (
    COLUMNS,
    INT32_MAX,
    INT32_MIN,
    ContactCreate,
    ContactUpdate,
    contact_record,
    group_names,
)
from xobito.kit.errors import Forbidden, NotFound, ValidationFailed
from xobito.kit.validation import Errors, merge, parse
from xobito.label.repository import GroupRepository, SourceRepository, StatusRepository
from xobito.models import Contact
from xobito.webhook.events import emit_crud
from xobito.workspace.schemas import WorkspaceInfo

PLAN_LIMIT = "Contact limit exceeded for your current plan. Upgrade to add more contacts."
TAKEN = "The {attr} has already been taken."
INVALID = "The selected {attr} is invalid."


class ContactService:
    def __init__(self, session: AsyncSession, workspace: WorkspaceInfo) -> None:
        self.workspace = workspace
        self.repo = ContactRepository(session, workspace.id)
        self.groups = GroupRepository(session, workspace.id)
        self.statuses = StatusRepository(session, workspace.id)
        self.sources = SourceRepository(session, workspace.id)

    async def page(
        self, page: int, per_page: int, where: dict[str, Any], sort: str = "id"
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of records and the total matching count (``sort``: ``listing.SORTS``)."""
        rows, groups, total = await self.repo.page_with_groups(page, per_page, where, sort)
        return [contact_record(r, groups[r.id]) for r in rows], total

    async def page_for_response(
        self, page: int, per_page: int, where: dict[str, Any]
    ) -> tuple[list[dict[str, Any]] | orjson.Fragment, int, int]:
        """Like ``page`` plus the page's size; on PostgreSQL the records arrive already
        encoded (an ``orjson.Fragment``), which is how the list stays cheap."""
        rendered = await self.repo.page_json(page, per_page, where)
        if rendered is not None:
            data, count, total = rendered
            return orjson.Fragment(data), count, total
        records, total = await self.page(page, per_page, where)
        return records, len(records), total

    async def scan(
        self, after_id: int, per_page: int, where: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A keyset page: the records after id ``after_id`` and the id the next page
        starts after (``None``: this is the last)."""
        rows, groups = await self.repo.after(after_id, per_page + 1, where)
        records = [contact_record(r, groups[r.id]) for r in rows[:per_page]]
        return records, (records[-1]["id"] if len(rows) > per_page else None)

    async def get(self, contact_id: int) -> dict[str, Any]:
        return await self.record(await self._find(contact_id))

    async def record(self, contact: Contact) -> dict[str, Any]:
        groups = await self.repo.groups_of([contact.id])
        return contact_record(contact, groups.get(contact.id, ()))

    async def _find(self, contact_id: int) -> Contact:
        contact = await self.repo.get(contact_id)
        if contact is None:
            raise NotFound("Contact not found")
        return contact

    async def _unique_rules(self, values: dict[str, Any], exclude_id: int | None) -> Errors:
        errors: Errors = {}
        phone, email = values.get("phone"), values.get("email")
        if phone is not None and await self.repo.taken(Contact.phone, phone, exclude_id):
            errors["phone"] = [TAKEN.format(attr="phone")]
        if email is not None and await self.repo.email_taken(email, exclude_id):
            errors["email"] = [TAKEN.format(attr="email")]
        return errors

    async def _conflict(
        self, values: dict[str, Any], exclude_id: int | None, exc: IntegrityError
    ) -> ValidationFailed:
        """The 422 for a write that a concurrent request's phone or email beat to the
        unique index: that request has committed (the index waited for it), so the rules
        now see its row. Called after the savepoint rolled back."""
        errors = await self._unique_rules(values, exclude_id)
        if not errors:  # the other row is gone again: name the index that refused
            field = "email" if "email" in str(exc.orig) else "phone"
            errors = {field: [TAKEN.format(attr=field)]}
        return ValidationFailed(merge(ContactCreate, errors))

    async def _database_rules(self, values: dict[str, Any], exclude_id: int | None) -> Errors:
        errors = await self._unique_rules(values, exclude_id)
        for field, repo in (("source_id", self.sources), ("status_id", self.statuses)):
            value = values.get(field)
            if value is None:
                continue
            if not INT32_MIN <= value <= INT32_MAX or not await repo.existing_ids([value]):
                errors[field] = [INVALID.format(attr=field.replace("_", " "))]
        return errors

    async def create(self, raw: Any) -> dict[str, Any]:
        data, errors, values = parse(ContactCreate, raw)
        extra = await self._database_rules(values, None)
        if errors or extra or data is None:
            raise ValidationFailed(merge(ContactCreate, errors, extra))
        await self.check_plan_limit()
        contact = Contact(
            **{k: getattr(data, k) for k in COLUMNS}, is_enabled=True, is_opted_out=False
        )
        try:
            async with self.repo.session.begin_nested():
                contact = await self.repo.add(contact)
        except IntegrityError as exc:  # a concurrent request stored the same phone or email
            raise await self._conflict(values, None, exc) from None
        group_ids = await self.groups.ensure(group_names(data.groups))
        await self.repo.set_groups(contact.id, group_ids, new=True)
        record = contact_record(contact, group_ids)
        await emit_crud(self.repo.session, self.workspace.id, "contacts", "created", record)
        self._note("created", record)
        return record

    async def update(self, contact_id: int, raw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Returns the record after and before the change.

        Validation (422) comes before the record lookup (404), in the order of
        docs/api/authentication.md.
        """
        data, errors, values = parse(ContactUpdate, raw)
        extra = await self._database_rules(values, contact_id)
        if errors or extra or data is None:
            raise ValidationFailed(merge(ContactUpdate, errors, extra))
        contact = await self._find(contact_id)
        before = await self.record(contact)
        try:
            # (``begin_nested`` flushes what is pending: the changes go inside it.)
            async with self.repo.session.begin_nested():
                for field in data.model_fields_set & set(COLUMNS):
                    setattr(contact, field, getattr(data, field))
                await self.repo.session.flush()
        except IntegrityError as exc:
            raise await self._conflict(values, contact_id, exc) from None
        if "groups" in data.model_fields_set:
            await self.repo.set_groups(
                contact.id, await self.groups.ensure(group_names(data.groups))
            )
        after = await self.record(contact)
        await emit_crud(self.repo.session, self.workspace.id, "contacts", "updated", after, before)
        self._note("updated", after)
        return after, before

    async def delete(self, contact_id: int) -> dict[str, Any]:
        contact = await self._find(contact_id)
        record = await self.record(contact)
        await self.repo.remove(contact)
        await emit_crud(self.repo.session, self.workspace.id, "contacts", "deleted", record)
        self._note("deleted", record)
        return record

    async def add_to_group(self, contact_ids: Sequence[int], group_name: str) -> int:
        """Add these contacts of the workspace to a group (made if missing): the dashboard's
        bulk action. Each contact that changes is an update, with its webhook. Returns how
        many changed."""
        found = parse(ContactUpdate, {"groups": group_name})[1]
        # (A name too long is reported as ``groups.0``.)
        errors = [m for key, ms in found.items() if key.split(".")[0] == "groups" for m in ms]
        if errors or not group_names(group_name):
            raise ValidationFailed({"groups": errors or ["The groups field is required."]})
        [group_id] = await self.groups.ensure(group_names(group_name)[:1])
        contacts = await self.repo.by_ids(contact_ids)
        memberships = await self.repo.groups_of([c.id for c in contacts])
        changed = 0
        for contact in contacts:
            current = memberships.get(contact.id, [])
            if group_id in current:
                continue
            before = contact_record(contact, current)
            await self.repo.set_groups(contact.id, sorted([*current, group_id]))
            after = await self.record(contact)
            await emit_crud(
                self.repo.session, self.workspace.id, "contacts", "updated", after, before
            )
            self._note("updated", after)
            changed += 1
        return changed

    async def delete_many(self, contact_ids: Sequence[int]) -> int:
        """Delete these contacts of the workspace (others' ids are not found, so ignored)."""
        contacts = await self.repo.by_ids(contact_ids)
        for contact in contacts:
            await self.delete(contact.id)
        return len(contacts)

    def _note(self, action: str, record: dict[str, Any]) -> None:
        name = " ".join(p for p in (record["firstname"], record["lastname"]) if p)
        summary = f"{action.capitalize()} contact {name} ({record['phone']})"
        note(self.workspace.id, f"contact.{action}", summary, "contact", record["id"])

    async def check_plan_limit(self) -> None:
        limit = self.workspace.max_contacts
        if limit is not None and await self.repo.count() >= limit:
            raise Forbidden(PLAN_LIMIT)
