"""Recipient resolution (docs/api/messages.md): find or auto-create the contact behind a phone
number."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.contact.repository import ContactRepository
from xobito.contact.schemas import contact_record, group_names
from xobito.contact.service import PLAN_LIMIT
from xobito.kit.errors import Forbidden, ValidationFailed
from xobito.kit.time import utcnow
from xobito.label.repository import GroupRepository, StatusRepository
from xobito.message.schemas import ContactIn
from xobito.models import Contact, Status
from xobito.webhook.events import emit_crud
from xobito.workspace.schemas import WorkspaceInfo

OPTED_OUT = "The recipient has opted out of messages."
EMAIL_TAKEN = "The contact.email has already been taken."


class RecipientResolver:
    def __init__(self, session: AsyncSession, workspace: WorkspaceInfo) -> None:
        self.workspace = workspace
        self.contacts = ContactRepository(session, workspace.id)
        self.groups = GroupRepository(session, workspace.id)
        self.statuses = StatusRepository(session, workspace.id)
        self._default: Status | None = None
        self._default_known = False

    async def find(self, phone: str, given: ContactIn | None) -> Contact | None:
        """For a send: the contact for ``phone``, with ``given`` applied; ``None`` when it
        must be created, which is allowed (plan limit, email): ``create`` does it with the
        send's outcome, so nothing of it is written unless the send is stored."""
        contact = await self.contacts.by_phone(phone)
        if contact is None:
            await self._check_new(given, enforce_limit=True)
            return None
        if given is not None:
            await self._update(contact, given)
        return contact

    async def create(self, phone: str, given: ContactIn | None) -> tuple[Contact, bool]:
        """The contact ``find`` found missing, as a ``lead``; whether it was created now (or
        concurrently by another request, then found and updated like any other)."""
        contact, created = await self._create(phone, given, "lead", enforce_limit=False)
        if not created and given is not None:
            await self._update(contact, given)
        return contact, created

    async def _check_new(self, given: ContactIn | None, *, enforce_limit: bool) -> None:
        limit = self.workspace.max_contacts
        if enforce_limit and limit is not None and await self.contacts.count() >= limit:
            raise Forbidden(PLAN_LIMIT)
        if given and given.email and await self.contacts.email_taken(given.email):
            raise ValidationFailed({"contact.email": [EMAIL_TAKEN]})

    async def for_inbound(
        self, phone: str, profile_name: str | None, *, looked_up: bool = False
    ) -> tuple[Contact, bool]:
        """The sender of an inbound message: found, or created as a ``guest`` (docs/webhooks.md);
        and whether it was created now. ``looked_up``: the caller found no contact with this
        number in this transaction already (one created concurrently since is still found).

        The plan limit does not apply: refusing would lose the customer's message.
        """
        contact = None if looked_up else await self.contacts.by_phone(phone)
        if contact is not None:
            return contact, False
        given = ContactIn(firstname=profile_name[:255]) if profile_name else None
        return await self._create(phone, given, "guest", enforce_limit=False)

    async def create_guests(self, senders: dict[str, str | None]) -> dict[str, Contact]:
        """``for_inbound`` for the senders (phone -> profile name) of a batch that were not
        found, in one statement; returns those created now (a number committed concurrently
        is left out: the caller looks it up). Their ``contacts.created`` events are the
        caller's to emit (``announce``), each where its first message is stored."""
        default = await self._default_status()
        now = utcnow()
        rows = []
        for phone, name in senders.items():
            given = ContactIn(firstname=name[:255]) if name else None
            rows.append(
                {
                    "firstname": given.firstname if given and given.firstname else phone,
                    "phone": phone,
                    "type": "guest",
                    "status_id": default.id if default else None,
                    "source_id": None,
                    "is_enabled": True,
                    "is_opted_out": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        return await self.contacts.insert_new(rows)

    async def announce(self, contact: Contact) -> None:
        """docs/webhooks.md: a contact created by any path emits ``contacts.created``."""
        await emit_crud(
            self.contacts.session,
            self.workspace.id,
            "contacts",
            "created",
            contact_record(contact, []),
        )

    async def _default_status(self) -> Status | None:
        if not self._default_known:  # one look-up per resolver (a request, an inbox batch)
            self._default = await self.statuses.default()
            self._default_known = True
        return self._default

    async def _create(
        self, phone: str, given: ContactIn | None, contact_type: str, enforce_limit: bool
    ) -> tuple[Contact, bool]:
        limit = self.workspace.max_contacts
        if enforce_limit and limit is not None and await self.contacts.count() >= limit:
            raise Forbidden(PLAN_LIMIT)
        if given and given.email and await self.contacts.email_taken(given.email):
            raise ValidationFailed({"contact.email": [EMAIL_TAKEN]})
        default = await self._default_status()
        contact = Contact(
            firstname=(given.firstname if given and given.firstname else phone),
            lastname=given.lastname if given else None,
            email=given.email if given else None,
            assigned_id=given.assigned_id if given else None,
            phone=phone,
            type=contact_type,
            status_id=default.id if default else None,
            source_id=None,
            is_enabled=True,
            is_opted_out=False,
        )
        try:
            async with self.contacts.session.begin_nested():
                contact = await self.contacts.add(contact)
        except IntegrityError:
            # A concurrent transaction (a send, inbound traffic, POST /contacts) committed
            # this number or the email first: use its contact, as if it had been found.
            existing = await self.contacts.by_phone(phone)
            if existing is not None:
                return existing, False
            if given and given.email and await self.contacts.email_taken(given.email):
                raise ValidationFailed({"contact.email": [EMAIL_TAKEN]}) from None
            raise
        group_ids: list[int] = []
        if given and given.groups:
            group_ids = list(await self.groups.ensure(group_names(given.groups)))
            await self.contacts.set_groups(contact.id, group_ids, new=True)
        # docs/webhooks.md: a contact created by any path emits ``contacts.created``.
        await emit_crud(
            self.contacts.session,
            self.workspace.id,
            "contacts",
            "created",
            contact_record(contact, group_ids),
        )
        return contact, True

    async def _record(self, contact: Contact) -> dict[str, Any]:
        groups = await self.contacts.groups_of([contact.id])
        return contact_record(contact, groups.get(contact.id, ()))

    async def _update(self, contact: Contact, given: ContactIn) -> None:
        before = await self._record(contact)
        fields = given.model_dump(exclude_unset=True, exclude={"groups", "country"})
        if fields.get("email") and await self.contacts.email_taken(fields["email"], contact.id):
            raise ValidationFailed({"contact.email": [EMAIL_TAKEN]})
        changes = {k: v for k, v in fields.items() if v is not None or k != "firstname"}
        if fields.get("email"):
            try:
                # (``begin_nested`` flushes what is pending: the changes go inside it.)
                async with self.contacts.session.begin_nested():
                    _assign(contact, changes)
                    await self.contacts.session.flush()
            except IntegrityError:  # another contact stored the email concurrently
                raise ValidationFailed({"contact.email": [EMAIL_TAKEN]}) from None
        else:
            _assign(contact, changes)
            await self.contacts.session.flush()
        if given.groups is not None:
            await self.contacts.set_groups(
                contact.id, await self.groups.ensure(group_names(given.groups))
            )
        after = await self._record(contact)
        if after != before:  # docs/webhooks.md: changes by any path emit ``contacts.updated``
            await emit_crud(
                self.contacts.session, self.workspace.id, "contacts", "updated", after, before
            )


def _assign(contact: Contact, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(contact, name, value)


class Reachable(Protocol):
    @property
    def is_opted_out(self) -> bool: ...


def ensure_reachable(contact: Reachable) -> None:
    if contact.is_opted_out:
        raise ValidationFailed({"phone_number": [OPTED_OUT]})
