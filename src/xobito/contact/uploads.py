"""Contacts CSV imports started from the dashboard: the uploaded file, its column mapping and
preview, and the durable import that follows (``contact.tasks``).

The file is kept in the database in 1 MiB chunks, so any worker process on any host can
import it; each process reads it through a local copy (``local_copy``), made once from the
chunks and named by the import's random token. The import itself runs as a chain of jobs,
one batch of records each, and each batch's contacts, group memberships, webhook events, row
errors and the import's progress commit together: a worker stopped at any moment leaves
every row either imported whole or still to do, never half-written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.contact.csv_rows import FIELDS, REQUIRED, ColumnMapping, CsvSource, CsvUnreadable
from xobito.contact.import_repository import ImportRepository
from xobito.contact.importing import Preview, preview
from xobito.jobs.repository import JobRepository
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.models import ContactImport
from xobito.workspace.schemas import WorkspaceInfo

IMPORT_JOB = "contact.import"
CHUNK_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # about a million rows
TOO_LARGE = f"The file may not be greater than {MAX_UPLOAD_BYTES // 1024} kilobytes."
NO_FILE = "The file field is required."
NOT_FOUND = "Import not found"
CACHE = Path(tempfile.gettempdir()) / "xobito-imports"
# Labels of the contact fields a column can fill (the form's names for them).
FIELD_LABELS = {
    "firstname": "First name",
    "lastname": "Last name",
    "phone": "Phone",
    "email": "Email",
    "type": "Type",
    "source_id": "Source",
    "status_id": "Status",
    "groups": "Groups",
    "company": "Company",
    "description": "Notes",
    "country_id": "Country id",
    "assigned_id": "Assigned to (user id)",
    "zip": "Postal code",
    "city": "City",
    "state": "State or region",
    "address": "Address",
    "website": "Website",
}
# Fields a whole file may take one value for, chosen in the form.
DEFAULTABLE = ("status_id", "source_id", "type")
assert set(FIELD_LABELS) == set(FIELDS)


def sniff_delimiter(first_line: bytes) -> str:
    """Excel in many European locales saves "CSV" with semicolons."""
    return ";" if first_line.count(b";") > first_line.count(b",") else ","


class ImportService:
    def __init__(self, session: AsyncSession, workspace: WorkspaceInfo) -> None:
        self.session = session
        self.workspace = workspace
        self.repo = ImportRepository(session, workspace.id)

    async def get(self, import_id: int) -> ContactImport:
        found = await self.repo.get(import_id)
        if found is None:
            raise NotFound(NOT_FOUND)
        return found

    async def recent(self, limit: int = 10) -> list[ContactImport]:
        return list(await self.repo.recent(limit))

    async def upload(self, filename: str, stream: BinaryIO, user_id: int | None) -> ContactImport:
        """Keep an uploaded file as a draft import, with the columns matched by name."""
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        if size == 0:
            raise ValidationFailed({"file": [NO_FILE]})
        if size > MAX_UPLOAD_BYTES:
            raise ValidationFailed({"file": [TOO_LARGE]})
        stream.seek(0)
        delimiter = sniff_delimiter(stream.readline())
        source = CsvSource(stream, delimiter=delimiter)  # CsvUnreadable: a ValidationFailed
        columns = {source.header[i]: f for i, f in source.columns.items()}
        row = ContactImport(
            user_id=user_id,
            filename=(Path(filename).name or "contacts.csv")[:255],
            size=size,
            token=secrets.token_hex(16),
            header=source.header,
            delimiter=delimiter,
            columns=columns,
            defaults={},
            state="draft",
        )
        await self.repo.add(row)
        stream.seek(0)
        seq = 0
        while chunk := stream.read(CHUNK_BYTES):
            await self.repo.add_chunk(row.id, seq, chunk)
            seq += 1
        stream.seek(0)
        _write_copy(_copy_path(row), stream)
        return row

    def mapping_of(self, imp: ContactImport) -> ColumnMapping:
        """The saved mapping: every header named (unmapped ones as ``None``)."""
        columns: dict[str, str | None] = {h: None for h in imp.header}
        columns.update(imp.columns)
        return ColumnMapping(columns, dict(imp.defaults))

    @staticmethod
    def mapping_from_form(imp: ContactImport, form: Mapping[str, Any]) -> ColumnMapping:
        """``col_<n>``: the field column ``n`` fills ("" for none); ``default_<field>``."""
        columns: dict[str, str | None] = {}
        for i, name in enumerate(imp.header):
            value = form.get(f"col_{i}")
            columns[name] = value if isinstance(value, str) and value in FIELDS else None
        defaults: dict[str, Any] = {}
        for target in DEFAULTABLE:
            value = form.get(f"default_{target}")
            if isinstance(value, str) and value:
                defaults[target] = value
        return ColumnMapping(columns, defaults)

    async def preview(self, imp: ContactImport, mapping: ColumnMapping, rows: int = 10) -> Preview:
        """What the import would do with the first rows, against the database as it is."""
        path = await local_copy(self.session, imp)
        with path.open("rb") as stream:
            source = CsvSource(stream, mapping, delimiter=imp.delimiter)
            return await preview(self.session, self.workspace, source, rows)

    async def start(self, imp: ContactImport, mapping: ColumnMapping) -> None:
        """Save the mapping and queue the import (a draft only)."""
        if imp.state != "draft":
            raise ValidationFailed({"file": ["This import has already started."]})
        path = await local_copy(self.session, imp)
        with path.open("rb") as stream:
            source = CsvSource(stream, mapping, delimiter=imp.delimiter)
        missing = source.missing_required()
        if missing:
            names = ", ".join(FIELD_LABELS[f] for f in missing)
            raise CsvUnreadable(f"Choose a column or a value for every required field: {names}.")
        imp.columns = {k: v for k, v in mapping.columns.items() if v is not None}
        imp.defaults = dict(mapping.defaults)
        imp.state = "queued"
        await self.session.flush()
        JobRepository(self.session).enqueue(IMPORT_JOB, {"import_id": imp.id}, max_attempts=5)
        note(
            self.workspace.id,
            "contacts.import_started",
            f"Started importing contacts from {imp.filename}",
            "contact_import",
            imp.id,
        )


def _copy_path(imp: ContactImport) -> Path:
    return CACHE / f"{imp.token}.csv"


def _write_copy(path: Path, stream: BinaryIO) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK_BYTES):
            out.write(chunk)
    os.replace(tmp, path)


async def local_copy(session: AsyncSession, imp: ContactImport) -> Path:
    """This process's copy of the import's file, written from the stored chunks when missing
    (another process took the upload) or incomplete."""
    path = _copy_path(imp)
    if path.exists() and path.stat().st_size == imp.size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    repo = ImportRepository(session, imp.workspace_id)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            seq = 0
            while (chunk := await repo.chunk(imp.id, seq)) is not None:
                out.write(chunk)
                seq += 1
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def discard_copy(imp: ContactImport) -> None:
    _copy_path(imp).unlink(missing_ok=True)


__all__ = ["DEFAULTABLE", "FIELD_LABELS", "IMPORT_JOB", "REQUIRED", "ImportService", "local_copy"]
