"""Contacts in and out as CSV: the import (upload, column mapping with a preview of the first
rows, progress while a job imports it batch by batch, the per-row error report as CSV) and
the export (streamed, the list's filters applied).

Imports and exports need an admin: one creates contacts in bulk, the other hands out the
whole address book.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from xobito.api.routing import DatabaseRoute
from xobito.contact.csv_rows import FIELDS, REQUIRED, ColumnMapping, CsvUnreadable
from xobito.contact.exporting import export_csv
from xobito.contact.import_repository import ImportRepository
from xobito.contact.import_runner import ErrorReport
from xobito.contact.importing import RowError
from xobito.contact.uploads import DEFAULTABLE, FIELD_LABELS, ImportService
from xobito.kit.errors import ValidationFailed
from xobito.kit.params import RecordId
from xobito.models import ContactImport
from xobito.web.contacts import TYPES, ContactFilters, labels
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data, form_file
from xobito.web.render import redirect, render

router = APIRouter(prefix="/{subdomain}/contacts", route_class=DatabaseRoute)

ERROR_BATCH = 1000


def _service(member: Member) -> ImportService:
    return ImportService(member.session, member.info)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@router.get("/import", name="web.contacts.import")
async def import_page(request: Request, member: Member = Role("admin")) -> Response:
    return await _upload_page(request, member, {})


async def _upload_page(
    request: Request, member: Member, errors: Mapping[str, list[str]], status: int = 200
) -> Response:
    context = {"errors": dict(errors), "recent": await _service(member).recent()}
    return render(request, "contacts/import.html", context, status_code=status)


@router.post("/import", name="web.contacts.import.upload")
async def upload(request: Request, member: Member = Role("admin")) -> Response:
    file = await form_file(request, "file")
    service = _service(member)
    try:
        if file is None:
            raise ValidationFailed({"file": ["The file field is required."]})
        imp = await service.upload(file.filename or "contacts.csv", file.file, member.user.id)
    except ValidationFailed as exc:
        return await _upload_page(request, member, exc.errors, 422)
    return redirect(request, member.url(f"/contacts/import/{imp.id}"))


async def _mapping_context(
    member: Member, imp: ContactImport, mapping: ColumnMapping
) -> dict[str, Any]:
    service = _service(member)
    problem = None
    shown = None
    try:
        shown = await service.preview(imp, mapping)
    except CsvUnreadable as exc:  # two columns for one field
        problem = exc.reason
    chosen = {i: mapping.columns.get(h) for i, h in enumerate(imp.header)}
    return {
        "imp": imp,
        "preview": shown,
        "problem": problem,
        "chosen": chosen,
        "defaults": mapping.defaults,
        "field_choices": [(f, FIELD_LABELS[f] + (" *" if f in REQUIRED else "")) for f in FIELDS],
        "field_labels": FIELD_LABELS,
        "defaultable": DEFAULTABLE,
        "labels": await labels(member),
        "types": TYPES[:2],
        "shown_fields": [f for f in FIELDS if f in set(chosen.values()) | set(mapping.defaults)],
    }


@router.get("/import/{import_id}", name="web.contacts.import.show")
async def show_import(
    request: Request, import_id: RecordId, member: Member = Role("admin")
) -> Response:
    service = _service(member)
    imp = await service.get(import_id)
    if imp.state == "draft":
        context = await _mapping_context(member, imp, service.mapping_of(imp))
        return render(request, "contacts/import_map.html", context)
    return render(
        request,
        "contacts/import_progress.html",
        {"imp": imp},
        fragment={"import-progress": "contacts/_progress.html"},
    )


@router.post("/import/{import_id}/preview", name="web.contacts.import.preview")
async def preview_import(
    request: Request, import_id: RecordId, member: Member = Role("admin")
) -> Response:
    service = _service(member)
    imp = await service.get(import_id)
    mapping = service.mapping_from_form(imp, await form_data(request))
    context = await _mapping_context(member, imp, mapping)
    return render(
        request, "contacts/import_map.html", context, fragment="contacts/_import_preview.html"
    )


@router.post("/import/{import_id}/start", name="web.contacts.import.start")
async def start_import(
    request: Request, import_id: RecordId, member: Member = Role("admin")
) -> Response:
    service = _service(member)
    imp = await service.get(import_id)
    if imp.state != "draft":
        return redirect(request, member.url(f"/contacts/import/{imp.id}"))
    mapping = service.mapping_from_form(imp, await form_data(request))
    try:
        await service.start(imp, mapping)
    except ValidationFailed as exc:
        context = await _mapping_context(member, imp, mapping)
        context["problem"] = " ".join(m for ms in exc.errors.values() for m in ms)
        return render(request, "contacts/import_map.html", context, status_code=422)
    return redirect(request, member.url(f"/contacts/import/{imp.id}"))


@router.get("/import/{import_id}/errors.csv", name="web.contacts.import.errors")
async def import_errors(
    request: Request, import_id: RecordId, member: Member = Role("admin")
) -> Response:
    imp = await _service(member).get(import_id)
    sessionmaker = request.app.state.sessionmaker
    workspace_id, import_row = member.workspace.id, imp.id

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        report = ErrorReport(buffer)  # the CLI's report: line, field, message
        after = 0
        while True:
            yield _drain(buffer)
            async with sessionmaker() as session:
                repo = ImportRepository(session, workspace_id)
                batch = await repo.errors_after(import_row, after, ERROR_BATCH)
            report.add(RowError(e.line, e.field, e.message) for e in batch)
            if len(batch) < ERROR_BATCH:
                yield _drain(buffer)
                return
            after = batch[-1].id

    stem = imp.filename.rsplit(".", 1)[0][:100] or "contacts"
    return StreamingResponse(
        lines(), media_type="text/csv; charset=utf-8", headers=_attachment(f"{stem}-errors.csv")
    )


@router.get("/export", name="web.contacts.export")
async def export(request: Request, member: Member = Role("admin")) -> Response:
    """The contacts the list shows with its current filters (search, status, ...), all pages."""
    f = ContactFilters.from_query(request.query_params)
    stream = export_csv(request.app.state.sessionmaker, member.workspace.id, f.where())
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    name = f"contacts-{member.workspace.subdomain}-{day}.csv"
    return StreamingResponse(
        stream, media_type="text/csv; charset=utf-8", headers=_attachment(name)
    )
