"""All SQL about dashboard imports: the import rows, their file's chunks, their errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.contact.importing import RowError
from xobito.kit.repository import ScopedRepository
from xobito.models import ContactImport, ContactImportChunk, ContactImportError


class ImportRepository(ScopedRepository[ContactImport]):
    model = ContactImport

    async def recent(self, limit: int) -> Sequence[ContactImport]:
        stmt = self.select().order_by(ContactImport.id.desc()).limit(limit)
        found: Sequence[ContactImport] = (await self.session.execute(stmt)).scalars().all()
        return found

    async def add_chunk(self, import_id: int, seq: int, data: bytes) -> None:
        await self.session.execute(
            insert(ContactImportChunk).values(import_id=import_id, seq=seq, data=data)
        )

    async def chunk(self, import_id: int, seq: int) -> bytes | None:
        """One piece of the file (one at a time: memory stays at one chunk)."""
        stmt = select(ContactImportChunk.data).where(
            ContactImportChunk.import_id == import_id, ContactImportChunk.seq == seq
        )
        data: bytes | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return data

    async def drop_chunks(self, import_id: int) -> None:
        await self.session.execute(
            delete(ContactImportChunk).where(ContactImportChunk.import_id == import_id)
        )

    async def add_errors(self, import_id: int, errors: Iterable[RowError]) -> None:
        rows = [
            {"import_id": import_id, "line": e.line, "field": e.field, "message": e.message}
            for e in errors
        ]
        if rows:
            await self.session.execute(insert(ContactImportError), rows)

    async def errors_after(
        self, import_id: int, after_id: int, limit: int
    ) -> Sequence[ContactImportError]:
        """The next ``limit`` errors in line order (keyset on id: written in file order)."""
        stmt = (
            select(ContactImportError)
            .where(ContactImportError.import_id == import_id, ContactImportError.id > after_id)
            .order_by(ContactImportError.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).scalars().all()


async def purge_abandoned(session: AsyncSession, before: datetime) -> int:
    """Uploads never started (left at the mapping step) since ``before``, with their file."""
    abandoned = select(ContactImport.id).where(
        ContactImport.state == "draft", ContactImport.created_at < before
    )
    await session.execute(
        delete(ContactImportChunk).where(ContactImportChunk.import_id.in_(abandoned))
    )
    result = await session.execute(
        delete(ContactImport).where(
            ContactImport.state == "draft", ContactImport.created_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
