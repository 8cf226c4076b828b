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
import multiprocessing
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TextIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from xobito.contact.csv_rows import ColumnMapping, CsvSource, Record, Start
from xobito.contact.importing import BatchResult, ContactImporter, Judged, Pending, RowError
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


class BatchReader(Protocol):
    """Reads and parses batches (the rules that need no database) away from the event
    loop, so that the Python work on one batch overlaps the database's on another."""

    def read(self, start: Start) -> Awaitable[Read]: ...

    def close(self) -> None: ...


class ThreadReader:
    """In a thread: shares the GIL with the event loop (any source, e.g. an upload)."""

    def __init__(self, source: CsvSource, batch_size: int) -> None:
        self.source, self.batch_size = source, batch_size

    def read(self, start: Start) -> Awaitable[Read]:
        return asyncio.ensure_future(asyncio.to_thread(_read, self.source, start, self.batch_size))

    def close(self) -> None:
        pass


_OPENED: dict[tuple[str, str], CsvSource] = {}


# A judged record as plain values (pickles several times faster than the dataclasses):
# line, the next record's (offset, line), problem, row, groups, parsed errors, values.
Packed = tuple[int, tuple[int, int], str | None, Any, list[str], Any, Any]


def _read_file(
    path: str, mapping: ColumnMapping, delimiter: str, start: Start, batch_size: int
) -> tuple[list[Packed], bool]:
    """``_read`` in the reader process, on the file it opened once. The cells stay here
    (only a preview shows them); a valid record's values are its row's."""
    source = _OPENED.get((path, delimiter))
    if source is None:
        source = CsvSource(open(path, "rb"), mapping, delimiter=delimiter)  # noqa: SIM115
        _OPENED[(path, delimiter)] = source
    _, parsed, more = _read(source, start, batch_size)
    packed = [
        (
            j.record.line,
            (j.record.after.offset, j.record.after.line),
            j.record.problem,
            j.row,
            j.groups,
            j.parsed,
            j.values if j.row is None else None,
        )
        for j in parsed
    ]
    return packed, more


def _unpacked(packed: list[Packed], more: bool) -> Read:
    parsed = [
        Judged(
            Record(line, {}, Start(*after), problem),
            row,
            groups,
            errors,
            # A valid record's values are its row's: the judge reads them with ``get`` (a
            # field left empty is None), so the row itself serves, without a copy per row.
            values if row is None else row,
        )
        for line, after, problem, row, groups, errors, values in packed
    ]
    return [j.record for j in parsed], parsed, more


class ProcessReader:
    """In a process of its own (a file on disk): parsing takes a core of its own, where a
    thread would hold the GIL the event loop and the writes need. The records come back
    pickled, a fraction of what parsing them costs."""

    def __init__(self, path: Path, mapping: ColumnMapping, delimiter: str, batch_size: int) -> None:
        self.args = (str(path), mapping, delimiter)
        self.batch_size = batch_size
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=context)

    def read(self, start: Start) -> Awaitable[Read]:
        return asyncio.ensure_future(self._read(start))

    async def _read(self, start: Start) -> Read:
        loop = asyncio.get_running_loop()
        packed, more = await loop.run_in_executor(
            self.pool, _read_file, *self.args, start, self.batch_size
        )
        return _unpacked(packed, more)

    def close(self) -> None:
        # Not waiting: after a failure the process may still be parsing its batch.
        self.pool.shutdown(wait=False, cancel_futures=True)


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace: WorkspaceInfo,
    source: CsvSource,
    *,
    total: int | None = None,
    batch_size: int = BATCH_SIZE,
    after_batch: Callback | None = None,
    reader: BatchReader | None = None,
) -> ImportProgress:
    """The whole file, a transaction per batch; ``after_batch`` hears of each commit.

    Three things overlap: the reader parses batch n+2, the database writes batch n, and
    batch n+1 is judged against the database on a second connection, counting batch n's
    contacts as taken (``Pending``). Batches are still committed one after the other, in
    file order, each judged against everything before it. Judging waits for the write
    before it instead on SQLite (one connection), for a workspace with a plan limit (its
    room is counted from committed rows), and after a write that had to be judged again
    (a concurrent writer took a phone or email)."""
    importer = ContactImporter(workspace)
    reader = reader or ThreadReader(source, batch_size)
    bind = sessionmaker.kw.get("bind")
    overlap = isinstance(bind, AsyncEngine) and bind.dialect.name != "sqlite"
    overlap = overlap and workspace.max_contacts is None
    progress = ImportProgress(rows_total=total, resume_at=source.first)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # the event loop gets the GIL back quickly from a thread
    reading: Awaitable[Read] | None = None
    try:
        batch, parsed, more = await reader.read(source.first)
        reading = reader.read(batch[-1].after) if more else None
        pending = await _judge(sessionmaker, importer, parsed, None)
        while True:
            writing = asyncio.ensure_future(_write(sessionmaker, importer, batch, parsed))
            following: Read | None = None
            ahead: Pending | None = None
            try:
                if reading is not None:
                    following, reading = await reading, None
                    if following[2]:
                        reading = reader.read(following[0][-1].after)
                    if overlap:
                        ahead = await _judge(sessionmaker, importer, following[1], pending)
            except asyncio.CancelledError:
                writing.cancel()
                await asyncio.gather(writing, return_exceptions=True)
                raise
            except Exception:
                # Reading or judging the next batch failed: the write under way still
                # finishes and is reported (its rows are in the database) before the error.
                done = (await asyncio.gather(writing, return_exceptions=True))[0]
                if not isinstance(done, BaseException) and after_batch is not None:
                    await after_batch(_advanced(progress, batch, done[0], more), done[0].errors)
                raise
            result, judged_again = await writing
            progress = _advanced(progress, batch, result, more)
            if after_batch is not None:
                await after_batch(progress, result.errors)
            if following is None:
                return progress
            batch, parsed, more = following
            if ahead is None or judged_again:
                ahead = await _judge(sessionmaker, importer, parsed, None)
            pending = ahead
    finally:
        sys.setswitchinterval(switch)
        if reading is not None:
            await asyncio.gather(reading, return_exceptions=True)
        reader.close()


async def _judge(
    sessionmaker: async_sessionmaker[AsyncSession],
    importer: ContactImporter,
    parsed: list[Judged],
    pending: Pending | None,
) -> Pending:
    async with sessionmaker() as session:
        return await importer.judge_batch(session, parsed, pending)


async def _write(
    sessionmaker: async_sessionmaker[AsyncSession],
    importer: ContactImporter,
    batch: list[Record],
    parsed: list[Judged],
) -> tuple[BatchResult, bool]:
    """Write a judged batch and commit; a batch that meets a concurrent writer's rows is
    judged again and written (``True``: it was)."""
    async with sessionmaker() as session:
        try:
            result, again = await importer.store_batch(session, parsed), False
        except IntegrityError:
            result, again = await importer.write(session, batch, parsed), True
        await session.commit()
    return result, again


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
