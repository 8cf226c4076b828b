"""Driving a contacts import: batches of records, one transaction each, with progress.

Used by ``xobito contact import`` and by the import job (``contact.tasks``). Each batch is
judged and written by ``ContactImporter`` and committed here, with its errors handed to the
caller: a row is either imported whole (contact, groups, webhook event) or reported. Memory
stays constant: one batch of records at a time, errors passed on, never collected.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.contact.csv_rows import CsvSource, Record, Start
from xobito.contact.importing import BatchResult, ContactImporter, Judged, RowError
from xobito.workspace.schemas import WorkspaceInfo

BATCH_SIZE = 5000  # rows per transaction (PostgreSQL writes each batch with one COPY)
ERROR_HEADER = ("line", "field", "message")


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where an import stands: records read (``rows_done`` of ``rows_total`` when known),
    contacts imported, records refused, and where the next batch starts (``None``: done)."""

    rows_done: int = 0
    rows_total: int | None = None
    imported: int = 0
    failed: int = 0
    resume_at: Start | None = None

    @property
    def finished(self) -> bool:
        return self.resume_at is None


Callback = Callable[[ImportProgress, list[RowError]], Awaitable[None]]


async def import_batch(
    session: AsyncSession,
    importer: ContactImporter,
    source: CsvSource,
    progress: ImportProgress,
    batch_size: int = BATCH_SIZE,
) -> tuple[ImportProgress, list[RowError]]:
    """One batch from ``progress.resume_at`` in the caller's transaction: the progress
    after it (``resume_at`` is ``None`` once the file is done) and its errors."""
    start = progress.resume_at or source.first
    batch = list(islice(source.records(start), batch_size + 1))
    more = len(batch) > batch_size
    batch = batch[:batch_size]
    result = await importer.write(session, batch)
    return _advanced(progress, batch, result, more), result.errors


def _advanced(
    progress: ImportProgress, batch: list[Record], result: BatchResult, more: bool
) -> ImportProgress:
    return replace(
        progress,
        rows_done=progress.rows_done + len(batch),
        imported=progress.imported + result.imported,
        failed=progress.failed + len({e.line for e in result.errors}),
        resume_at=batch[-1].after if more else None,
    )


Read = tuple[list[Record], list[Judged], bool]


def _read(source: CsvSource, start: Start, batch_size: int) -> Read:
    """The next batch from ``start``, parsed; whether more records follow it."""
    batch = list(islice(source.records(start), batch_size + 1))
    more = len(batch) > batch_size
    batch = batch[:batch_size]
    return batch, ContactImporter.parse(batch), more


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace: WorkspaceInfo,
    source: CsvSource,
    *,
    total: int | None = None,
    batch_size: int = BATCH_SIZE,
    after_batch: Callback | None = None,
) -> ImportProgress:
    """The whole file, a transaction per batch; ``after_batch`` hears of each commit.

    While a batch is written, the next one is read and parsed in a thread (the file and the
    rules that need no database): the database's work on one batch and the Python work on
    the next overlap, on two cores. Batches are still written one after the other, in file
    order, each judged against everything committed before it."""
    importer = ContactImporter(workspace)
    progress = ImportProgress(rows_total=total, resume_at=source.first)
    reading: asyncio.Future[Read] | None = asyncio.ensure_future(
        asyncio.to_thread(_read, source, source.first, batch_size)
    )
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the event loop gets the GIL back quickly from the reader
    try:
        while reading is not None:
            batch, parsed, more = await reading
            reading = (
                asyncio.ensure_future(
                    asyncio.to_thread(_read, source, batch[-1].after, batch_size)
                )
                if more
                else None
            )
            async with sessionmaker() as session:
                result = await importer.write(session, batch, parsed)
                await session.commit()
            progress = _advanced(progress, batch, result, more)
            if after_batch is not None:
                await after_batch(progress, result.errors)
    finally:
        sys.setswitchinterval(switch)
        if reading is not None:
            await asyncio.gather(reading, return_exceptions=True)
    return progress


class ErrorReport:
    """The per-row error report as CSV (``line,field,message``; ``field`` is empty when the
    row as a whole was refused), written as errors arrive."""

    def __init__(self, stream: TextIO) -> None:
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(ERROR_HEADER)
        self.rows = 0

    def add(self, errors: Iterable[RowError]) -> None:
        for e in errors:
            self.writer.writerow((e.line, e.field or "", e.message))
            self.rows += 1


def error_report_lines(errors: Iterable[RowError]) -> Iterator[str]:
    """The same report as text chunks (for a streamed download)."""
    buffer = io.StringIO()
    report = ErrorReport(buffer)
    yield buffer.getvalue()
    for e in errors:
        buffer.seek(0)
        buffer.truncate()
        report.add([e])
        yield buffer.getvalue()
