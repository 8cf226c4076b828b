"""``xobito contact import|export``: contacts in and out as CSV."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.cli.common import Json, database_url, done, err_console, fail
from xobito.contact.csv_rows import ColumnMapping, CsvSource, CsvUnreadable
from xobito.contact.exporting import export_csv
from xobito.contact.import_runner import (
    BATCH_SIZE,
    ErrorReport,
    ImportProgress,
    ProcessReader,
    run_import,
)
from xobito.contact.importing import RowError
from xobito.contact.listing import filters
from xobito.kit.db import dispose_engine, make_engine, make_sessionmaker
from xobito.kit.errors import XobitoError
from xobito.workspace.schemas import WorkspaceInfo
from xobito.workspace.service import WorkspaceService

app = typer.Typer(help="Import and export contacts as CSV.", no_args_is_help=True)
SHOWN_ERRORS = 20
# Exit codes: 1 nothing imported (unknown workspace, unreadable file or mapping),
# 3 the import finished but some rows were refused (see the error report).
ROWS_REFUSED = 3


@asynccontextmanager
async def _database() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url())
    try:
        yield make_sessionmaker(engine)
    finally:
        await dispose_engine(engine)


async def _workspace(sessionmaker: async_sessionmaker[AsyncSession], subdomain: str) -> Any:
    async with sessionmaker() as session:
        return WorkspaceInfo.of(await WorkspaceService(session).get(subdomain))


def _pairs(items: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        out[key.strip()] = value.strip()
    return out


@app.command("import")
def import_(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    file: Annotated[
        Path, typer.Argument(help="CSV file; first line: the API's field names", exists=True)
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="HEADER=FIELD: the column HEADER fills FIELD (HEADER= ignores it); repeatable. "
            "Columns named like a field (First Name, first_name) need no mapping.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE for rows that leave FIELD empty; repeatable"),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(help="Where the error report goes (default: FILE.errors.csv)"),
    ] = None,
    delimiter: Annotated[str, typer.Option(help="Cell separator")] = ",",
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="Rows per commit")] = (
        BATCH_SIZE
    ),
    as_json: Json = False,
) -> None:
    """Import contacts from a CSV file, with the API's rules and messages.

    Every row is judged as its own POST /contacts would be; good rows are imported (a
    transaction per batch), refused rows are listed by line, field and message in the error
    report. Exit code 0: every row imported; 3: some rows refused; 1: nothing imported.
    """
    columns: dict[str, str | None] = {k: (v or None) for k, v in _pairs(map_, "--map").items()}
    mapping = ColumnMapping(columns, _pairs(set_, "--set"))
    report_path = errors or file.with_name(file.name + ".errors.csv")
    try:
        progress = asyncio.run(
            _import(subdomain, file, mapping, delimiter, batch_size, report_path)
        )
    except XobitoError as exc:
        body = exc.body()
        reasons = body.get("errors")
        message = reasons["file"][0] if isinstance(reasons, dict) and "file" in reasons else None
        fail(str(message or body.get("message")))
    summary = (
        f"{progress.rows_done} rows read: {progress.imported} contacts imported, "
        f"{progress.failed} rows refused."
    )
    done(
        {
            "rows": progress.rows_done,
            "imported": progress.imported,
            "refused": progress.failed,
            "error_report": str(report_path) if progress.failed else None,
        },
        as_json,
        summary,
        *([f"Error report: {report_path}"] if progress.failed else []),
    )
    if progress.failed:
        raise typer.Exit(ROWS_REFUSED)
    report_path.unlink(missing_ok=True)


async def _import(
    subdomain: str,
    file: Path,
    mapping: ColumnMapping,
    delimiter: str,
    batch_size: int,
    report_path: Path,
) -> ImportProgress:
    async with _database() as sessionmaker:
        workspace = await _workspace(sessionmaker, subdomain)
        with file.open("rb") as stream:
            source = CsvSource(stream, mapping, delimiter=delimiter)
            if missing := source.missing_required():
                raise CsvUnreadable(
                    "No column fills the required field(s) "
                    + ", ".join(missing)
                    + " (use --map HEADER=FIELD or --set FIELD=VALUE)."
                )
            total = source.count()
            shown = 0
            with (
                report_path.open("w", newline="", encoding="utf-8") as out,
                Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=err_console,
                    transient=True,
                ) as bar,
            ):
                report = ErrorReport(out)
                task = bar.add_task("importing", total=total)

                async def after_batch(progress: ImportProgress, errors: list[RowError]) -> None:
                    nonlocal shown
                    report.add(errors)
                    out.flush()
                    for e in errors[: max(0, SHOWN_ERRORS - shown)]:
                        where = f"line {e.line}" + (f", {e.field}" if e.field else "")
                        err_console.print(f"{where}: {e.message}", highlight=False)
                    shown += len(errors)
                    bar.update(task, completed=progress.rows_done)

                result = await run_import(
                    sessionmaker,
                    workspace,
                    source,
                    total=total,
                    batch_size=batch_size,
                    after_batch=after_batch,
                    reader=ProcessReader(file, mapping, delimiter, batch_size),
                )
            if shown > SHOWN_ERRORS:
                err_console.print(f"… and {shown - SHOWN_ERRORS} more errors in the report")
            return result


@app.command("export")
def export(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")
    ] = None,
    search: Annotated[str | None, typer.Option(help="Substring of name, phone, email")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="lead, customer or guest")] = None,
    status_id: Annotated[int | None, typer.Option(help="Only this status")] = None,
    source_id: Annotated[int | None, typer.Option(help="Only this source")] = None,
    group_id: Annotated[int | None, typer.Option(help="Only this group")] = None,
    opted_out: Annotated[
        bool | None, typer.Option("--opted-out/--not-opted-out", help="Only (not) opted out")
    ] = None,
) -> None:
    """Export contacts as CSV (the import's columns, plus id, flags and timestamps)."""
    where = filters(
        search=search,
        type=type_,
        status_id=status_id,
        source_id=source_id,
        group_id=group_id,
        is_opted_out=opted_out,
    )

    async def main() -> None:
        async with _database() as sessionmaker:
            workspace = await _workspace(sessionmaker, subdomain)
            stream = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
            try:
                async for chunk in export_csv(sessionmaker, workspace.id, where):
                    stream.write(chunk)
            finally:
                if output:
                    stream.close()
                else:
                    stream.flush()

    try:
        asyncio.run(main())
    except XobitoError as exc:
        fail(str(exc.body().get("message")))
