"""The contacts import job: one batch of an uploaded file per run, in the worker's
transaction, which also carries the batch's row errors, the import's progress and the job for
the next batch. A run that fails rolls all of that back and is retried from the same record.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.contact.csv_rows import ColumnMapping, CsvSource, CsvUnreadable, Start
from xobito.contact.import_repository import ImportRepository
from xobito.contact.import_runner import BATCH_SIZE, ImportProgress, import_batch
from xobito.contact.importing import ContactImporter
from xobito.contact.uploads import IMPORT_JOB, discard_copy, local_copy
from xobito.jobs.repository import JobRepository
from xobito.kit.time import utcnow
from xobito.models import ActivityEntry, ContactImport, User, Workspace
from xobito.workspace.schemas import WorkspaceInfo

log = structlog.get_logger("xobito.contact")


async def import_step(
    session: AsyncSession, payload: dict[str, Any], batch_size: int = BATCH_SIZE
) -> None:
    stmt = select(ContactImport).where(ContactImport.id == int(payload["import_id"]))
    imp = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if imp is None or imp.state not in ("queued", "running"):
        return  # deleted meanwhile, or a repeated job after the end
    workspace = await session.get(Workspace, imp.workspace_id)
    if workspace is None:
        return
    path = await local_copy(session, imp)
    with path.open("rb") as stream:
        try:
            source = CsvSource(
                stream, ColumnMapping(imp.columns, imp.defaults), delimiter=imp.delimiter
            )
            if imp.rows_total is None:
                # Every line is read once first: the progress bar's total, and a file that is
                # not UTF-8 further down is refused before anything is imported.
                imp.rows_total = source.count()
                imp.state = "running"
                imp.started_at = utcnow()
        except CsvUnreadable as exc:
            await _finish(session, imp, "failed", exc.reason)
            return
        start = (
            Start(imp.resume_offset, imp.resume_line)
            if imp.resume_offset is not None and imp.resume_line is not None
            else None
        )
        progress = ImportProgress(
            rows_done=imp.rows_done,
            rows_total=imp.rows_total,
            imported=imp.imported,
            failed=imp.failed,
            resume_at=start or source.first,
        )
        importer = ContactImporter(WorkspaceInfo.of(workspace))
        progress, errors = await import_batch(session, importer, source, progress, batch_size)
    await ImportRepository(session, imp.workspace_id).add_errors(imp.id, errors)
    imp.rows_done, imp.imported, imp.failed = progress.rows_done, progress.imported, progress.failed
    if progress.resume_at is None:
        await _finish(session, imp, "done", None)
        return
    imp.resume_offset, imp.resume_line = progress.resume_at.offset, progress.resume_at.line
    JobRepository(session).enqueue(IMPORT_JOB, {"import_id": imp.id}, max_attempts=5)


GAVE_UP = "The import stopped after repeated errors (the server's log has them)."


async def import_gave_up(session: AsyncSession, payload: dict[str, Any], error: str) -> None:
    """The import's job failed its last attempt: the import is failed, not left "running"
    for ever; the batches committed before stay imported (the page says how many)."""
    stmt = select(ContactImport).where(ContactImport.id == int(payload["import_id"]))
    imp = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if imp is None or imp.state not in ("queued", "running"):
        return
    log.warning("contact_import_gave_up", id=imp.id, error=error)
    await _finish(session, imp, "failed", GAVE_UP)


async def _finish(
    session: AsyncSession, imp: ContactImport, state: str, problem: str | None
) -> None:
    imp.state, imp.problem, imp.finished_at = state, problem, utcnow()
    imp.resume_offset = imp.resume_line = None
    await ImportRepository(session, imp.workspace_id).drop_chunks(imp.id)
    user = await session.get(User, imp.user_id) if imp.user_id is not None else None
    if state == "done":
        summary = f"Imported {imp.imported} contacts from {imp.filename}" + (
            f"; {imp.failed} rows refused" if imp.failed else ""
        )
    else:
        summary = f"Import of {imp.filename} failed: {problem}"
    # The import ends in the worker, outside any request: its entry is written here, as
    # the person who started it.
    session.add(
        ActivityEntry(
            workspace_id=imp.workspace_id,
            actor_type="user",
            actor_id=imp.user_id,
            actor_name=(f"{user.name} <{user.email}>" if user else "Deleted user")[:255],
            action=f"contacts.import_{'finished' if state == 'done' else 'failed'}",
            subject_type="contact_import",
            subject_id=str(imp.id),
            summary=summary,
        )
    )
    await session.flush()
    discard_copy(imp)  # after the flush; a rollback just makes the next run copy it again
    log.info("contact_import_finished", id=imp.id, state=state, imported=imp.imported)
