"""What every CLI command shares: settings, a database session, output helpers."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import Actor, recording
from xobito.config import get_settings
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.kit.errors import XobitoError

T = TypeVar("T")
# soft_wrap: long lines (tokens, URLs, rows) are never broken at 80 columns when piped.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def database_url() -> str:
    """The configured database; for SQLite, a file that exists (else the command stops with
    what to do), so a mistyped path or a missing ``db upgrade`` never creates an empty file."""
    settings = get_settings()
    path = settings.sqlite_path()
    if path is not None and not path.exists():
        fail(
            f"no database at {path}: run `xobito db upgrade` first, or set XOBITO_DATABASE_URL "
            "(or XOBITO_DATA_DIR) to where it is"
        )
    return settings.database_url


@asynccontextmanager
async def db_session() -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block succeeds, rolled back otherwise."""
    engine = make_engine(database_url())
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
            await session.commit()
    finally:
        await engine.dispose()


def cli_actor() -> Actor:
    """The activity log's name for changes made with the CLI: the operating-system user."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        who = "unknown"
    return Actor("cli", None, f"CLI ({who})")


def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction; spec errors become a message and exit code 1.
    What it changes goes into the activity log, in the same transaction."""

    async def main() -> T:
        async with db_session() as session:
            with recording(cli_actor()) as recorder:
                result = await work(session)
                await recorder.flush(session)
            return result

    try:
        return asyncio.run(main())
    except XobitoError as exc:
        body = exc.body()
        errors = body.get("errors")
        details = [
            f"{field}: {message}"
            for field, messages in (errors.items() if isinstance(errors, dict) else ())
            for message in messages
        ]
        if isinstance(errors, str):
            details.append(errors)
        fail(f"{body.get('message')}" + (f" ({'; '.join(details)})" if details else ""))


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def say(text: str) -> None:
    """One line of plain output (no markup, no highlighting, never wrapped)."""
    console.print(text, markup=False, highlight=False)


def done(record: Any, as_json: bool, *lines: str) -> None:
    """A command's result: ``record`` as JSON with ``--json``, else ``lines`` as text."""
    if as_json:
        print_json(record)
        return
    for line in lines:
        say(line)


def fail(message: str, code: int = 1) -> NoReturn:
    """Stop the command: one line on standard error, exit code ``code`` (2: usage)."""
    err_console.print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def show(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    """Rows as JSON, as a table on a terminal, or as tab-separated lines (a header first,
    every value whole) when the output is piped or redirected."""
    if as_json:
        print_json(rows)
        return
    if not console.is_terminal:
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(_cell(row.get(c)).replace("\t", " ") for c in columns))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns), end_section=False)
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
