"""What every CLI command shares: settings, a database session, output helpers."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import Actor, recording
from xobito.config import get_settings
from xobito.kit.db import make_engine, make_sessionmaker
from xobito.kit.errors import XobitoError

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


@asynccontextmanager
async def db_session() -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block succeeds, rolled back otherwise."""
    engine = make_engine(get_settings().database_url)
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
        err_console.print(f"[red]error:[/red] {body.get('message')}")
        errors = body.get("errors")
        if isinstance(errors, dict):
            for field, messages in errors.items():
                for message in messages:
                    err_console.print(f"  {field}: {message}")
        raise typer.Exit(1) from None


def show(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
