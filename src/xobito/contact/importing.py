"""Bulk import of contacts, with the API's rules and messages (docs/api/contacts.md).

Every record is judged as if it were its own ``POST /contacts``, in file order: the same
validation messages (keyed by field, as in a 422), phone and email uniqueness against the
workspace *and* the rows imported before it, sources and statuses of this workspace, the
plan limit (``max_contacts``), groups created when missing, and one ``contacts.created``
webhook per contact. A record that passes becomes a contact with its groups; one that fails
is reported by line, field and message, and nothing of it is written.

``ContactImporter.write`` handles one batch in the caller's transaction and never commits;
whoever drives the import (``contact.import_runner``, the CLI, a worker job) commits once
per batch, so a batch is all there or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.contact.csv_rows import CsvSource, Record
from xobito.contact.repository import ContactRepository
from xobito.contact.schemas import (
    COLUMNS,
    INT32_MAX,
    INT32_MIN,
    ContactCreate,
    contact_record,
    group_names,
)
from xobito.contact.service import INVALID, PLAN_LIMIT, TAKEN
from xobito.kit.time import utcnow
from xobito.kit.validation import Errors, merge, parse
from xobito.label.repository import GroupRepository, SourceRepository, StatusRepository
from xobito.webhook.events import emit_crud_many
from xobito.workspace.schemas import WorkspaceInfo

# A concurrent writer can take a phone or email, or delete a status, between the checks
# and the INSERT; the batch is judged again (it then sees that writer's rows).
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class RowError:
    """One reason a record was not imported: its line, the field (``None``: the row as a
    whole) and the API's message."""

    line: int
    field: str | None
    message: str


@dataclass(slots=True)
class Judged:
    """A record with the API's verdict on it."""

    record: Record
    row: dict[str, Any] | None  # the contact's columns, if the record is valid
    groups: list[str] = field(default_factory=list)  # the names of its groups
    parsed: Errors = field(default_factory=dict)  # validation's errors (no database rules)
    values: dict[str, Any] = field(default_factory=dict)  # the fields that passed
    errors: Errors = field(default_factory=dict)  # all the field errors
    problem: str | None = None  # the row as a whole: unreadable, or over the plan limit

    @property
    def accepted(self) -> bool:
        return self.row is not None and not self.errors and self.problem is None

    def row_errors(self) -> list[RowError]:
        line = self.record.line
        found = [RowError(line, f, m) for f, messages in self.errors.items() for m in messages]
        if self.problem is not None:
            found.append(RowError(line, None, self.problem))
        return found


@dataclass(frozen=True, slots=True)
class BatchResult:
    imported: int
    errors: list[RowError]


@dataclass(frozen=True, slots=True)
class Pending:
    """What a judged batch will add once written: the next batch, judged while this one
    is still being written, counts these as taken (emails lower-cased)."""

    phones: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()


class ContactImporter:
    """Judges and writes batches of records for one workspace. Keeps the ids of the groups
    it has seen, so later batches name them without a query."""

    def __init__(self, workspace: WorkspaceInfo) -> None:
        self.workspace = workspace
        self._group_ids: dict[str, int] = {}

    async def judge(self, session: AsyncSession, records: Sequence[Record]) -> list[Judged]:
        """The API's verdict on each record against the database as it is now, writing
        nothing (a preview)."""
        judged = [_parse(r) for r in records]
        await self._database_rules(session, judged, await self._room(session))
        return judged

    @staticmethod
    def parse(records: Sequence[Record]) -> list[Judged]:
        """The rules that need no database (pure: may run in another thread while the
        previous batch is written)."""
        return [_parse(r) for r in records]

    async def write(
        self,
        session: AsyncSession,
        records: Sequence[Record],
        parsed: list[Judged] | None = None,
    ) -> BatchResult:
        """Import the records that pass; report the others. ``parsed``: ``parse(records)``,
        if already done."""
        judged = parsed if parsed is not None else self.parse(records)
        for attempt in range(ATTEMPTS):
            await self.judge_batch(session, judged)
            try:
                return await self.store_batch(session, judged)
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def judge_batch(
        self, session: AsyncSession, judged: list[Judged], pending: Pending | None = None
    ) -> Pending:
        """The database rules on parsed records, writing nothing; ``pending``: what the
        batch before, not committed yet, will add. Returns what this one will add."""
        await self._database_rules(session, judged, await self._room(session), pending)
        accepted = [j for j in judged if j.accepted]
        return Pending(
            frozenset(str(j.values["phone"]) for j in accepted),
            frozenset(str(j.values["email"]).lower() for j in accepted if j.values.get("email")),
        )

    async def store_batch(self, session: AsyncSession, judged: list[Judged]) -> BatchResult:
        """Write the accepted records of a judged batch, all or nothing (a savepoint: an
        IntegrityError, from a concurrent writer, leaves the transaction usable and the
        batch to be judged again)."""
        accepted = [j for j in judged if j.accepted]
        try:
            async with session.begin_nested():
                await self._store(session, accepted)
        except IntegrityError:
            self._group_ids.clear()
            raise
        return BatchResult(len(accepted), [e for j in judged for e in j.row_errors()])

    async def _room(self, session: AsyncSession) -> int | None:
        """How many contacts the plan still allows (``None``: no limit)."""
        limit = self.workspace.max_contacts
        if limit is None:
            return None
        return max(0, limit - await ContactRepository(session, self.workspace.id).count())

    async def _database_rules(
        self,
        session: AsyncSession,
        judged: list[Judged],
        room: int | None,
        pending: Pending | None = None,
    ) -> None:
        """Uniqueness, references and the plan limit, judged in file order: a record sees
        the records accepted before it (and ``pending``'s) as if they were stored already."""
        ws = self.workspace.id
        contacts = ContactRepository(session, ws)
        phones = {j.values["phone"] for j in judged if j.values.get("phone")}
        emails = {j.values["email"] for j in judged if j.values.get("email")}
        taken_phones = await contacts.phones_taken(phones)
        taken_emails = await contacts.emails_taken(emails)
        if pending is not None:
            taken_phones |= pending.phones & phones
            taken_emails |= pending.emails & {e.lower() for e in emails}
        statuses = await _existing(StatusRepository(session, ws), judged, "status_id")
        sources = await _existing(SourceRepository(session, ws), judged, "source_id")
        for j in judged:
            j.errors, j.problem = j.parsed, j.record.problem
            if j.problem is not None:
                continue
            extra: Errors = {}
            phone, email = j.values.get("phone"), j.values.get("email")
            if phone is not None and phone in taken_phones:
                extra["phone"] = [TAKEN.format(attr="phone")]
            if email is not None and email.lower() in taken_emails:
                extra["email"] = [TAKEN.format(attr="email")]
            for key, existing in (("source_id", sources), ("status_id", statuses)):
                value = j.values.get(key)
                if value is not None and value not in existing:
                    extra[key] = [INVALID.format(attr=key.replace("_", " "))]
            if extra:
                j.errors = merge(ContactCreate, j.errors, extra)
            if not j.accepted:
                continue
            if room is not None:
                if room == 0:
                    j.problem = PLAN_LIMIT
                    continue
                room -= 1
            taken_phones.add(str(phone))
            if email is not None:
                taken_emails.add(email.lower())

    async def _store(self, session: AsyncSession, accepted: list[Judged]) -> None:
        if not accepted:
            return
        ws = self.workspace.id
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for j in accepted:
            assert j.row is not None
            row = {**j.row, "is_enabled": True, "is_opted_out": False}
            row.update(created_at=now, updated_at=now)
            rows.append(row)
        ids = await ContactRepository(session, ws).insert_many(rows)
        names = [j.groups for j in accepted]
        missing = sorted({n for each in names for n in each} - self._group_ids.keys())
        found = await GroupRepository(session, ws).ensure_named(missing)
        known = {**self._group_ids, **found}
        memberships = [sorted({known[n] for n in each}) for each in names]
        await ContactRepository(session, ws).add_memberships(
            [(cid, gid) for cid, gids in zip(ids, memberships, strict=True) for gid in gids]
        )

        def records() -> Iterator[dict[str, Any]]:
            for cid, row, gids in zip(ids, rows, memberships, strict=True):
                stored = SimpleNamespace(**row, id=cid, workspace_id=ws, opted_out_at=None)
                yield contact_record(stored, gids)  # type: ignore[arg-type]

        await emit_crud_many(session, ws, "contacts", "created", records())
        self._group_ids = known


def _parse(record: Record) -> Judged:
    if record.problem is not None:
        return Judged(record, None)
    data, errors, values = parse(ContactCreate, record.values)
    if data is None:
        return Judged(record, None, [], errors, values)
    # Plain values, not the model: cheap to pickle from a reader process.
    return Judged(
        record, {k: getattr(data, k) for k in COLUMNS}, group_names(data.groups), errors, values
    )


async def _existing(repo: Any, judged: list[Judged], key: str) -> set[int]:
    wanted = {
        v for j in judged if isinstance(v := j.values.get(key), int) and INT32_MIN <= v <= INT32_MAX
    }
    return set(await repo.existing_ids(sorted(wanted))) if wanted else set()


@dataclass(frozen=True, slots=True)
class PreviewRow:
    line: int
    values: dict[str, Any]  # the record's cells, by field, as read
    errors: list[RowError]

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class Preview:
    """What an import of the file would do with its first rows, before anything is
    written: the header, which column fills which field, the columns left out, required
    fields no column fills, and each first row's verdict."""

    header: list[str]
    columns: dict[str, str]
    unmapped: list[str]
    missing_required: list[str]
    rows: list[PreviewRow]


async def preview(
    session: AsyncSession, workspace: WorkspaceInfo, source: CsvSource, rows: int = 20
) -> Preview:
    records: list[Record] = []
    for record in source.records():
        records.append(record)
        if len(records) >= rows:
            break
    judged = await ContactImporter(workspace).judge(session, records)
    return Preview(
        header=source.header,
        columns={source.header[i]: f for i, f in source.columns.items()},
        unmapped=source.unmapped(),
        missing_required=source.missing_required(),
        rows=[PreviewRow(j.record.line, j.record.values, j.row_errors()) for j in judged],
    )
