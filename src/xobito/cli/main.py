"""Entry point of the ``xobito`` command."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from xobito import __version__
from xobito.cli import (
    campaign,
    contact,
    demo,
    doctor,
    message,
    messaging,
    token,
    user,
    webhook,
    workspace,
)
from xobito.cli.failures import describe
from xobito.cli.helptext import plain_flags
from xobito.config import get_settings

plain_flags()
app = typer.Typer(
    help="Xobito: self-hostable WhatsApp Business messaging platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workspace.app, name="workspace")
app.add_typer(token.app, name="token")
app.add_typer(contact.app, name="contact")
app.add_typer(campaign.app, name="campaign")
app.add_typer(user.app, name="user")
app.add_typer(webhook.app, name="webhook")
app.add_typer(messaging.whatsapp_app, name="whatsapp")
app.add_typer(messaging.template_app, name="template")
app.add_typer(messaging.sandbox_app, name="sandbox")
app.add_typer(message.app, name="message")
app.command("demo")(demo.demo)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"xobito {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Xobito: self-hostable WhatsApp Business messaging platform."""


app.command("worker")(messaging.worker)
app.command("doctor")(doctor.doctor)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the HTTP API (uvicorn with uvloop and httptools)."""
    import asyncio

    import structlog
    import uvicorn

    from xobito.kit.db_capacity import serve_check
    from xobito.kit.logging import configure_logging

    settings = get_settings()
    configure_logging(settings)
    # The documented layout: these processes plus one ``xobito worker`` (unless in-process).
    warning = asyncio.run(
        serve_check(
            settings.database_url,
            processes=workers,
            per_process=settings.db_pool_size + settings.db_max_overflow,
            workers=0 if settings.worker_in_process else 1,
        )
    )
    if warning is not None:
        structlog.get_logger("xobito.serve").warning("db_pool_too_large", detail=warning)
    with metrics_directory(workers):
        uvicorn.run(
            "xobito.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            proxy_headers=True,
            log_level=settings.log_level.lower(),
            timeout_worker_healthcheck=settings.serve_healthcheck_seconds,
            timeout_graceful_shutdown=settings.serve_shutdown_seconds,
        )


@contextlib.contextmanager
def metrics_directory(workers: int) -> Iterator[None]:
    """Several worker processes share their Prometheus metrics through files
    (multiprocess mode): in ``PROMETHEUS_MULTIPROC_DIR`` when it is set (emptied first:
    old processes' counts are not this run's), else in a directory of this run, removed
    afterwards. The workers inherit the variable. One process needs none of this."""
    from xobito.kit.metrics import MULTIPROCESS_DIR

    if workers <= 1:
        yield
        return
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    with tempfile.TemporaryDirectory(prefix="xobito-metrics-") as directory:
        os.environ[MULTIPROCESS_DIR] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIR]


@db_app.command("upgrade")
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply the migrations up to a revision (default: the newest)."""
    from xobito.kit.migrate import upgrade as run_upgrade

    run_upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


def main() -> None:
    """The ``xobito`` command: a failure is one line on standard error and exit code 1, never a
    traceback (``XOBITO_LOG_LEVEL=DEBUG`` prints it as well)."""
    try:
        app()
    except Exception as exc:  # anything the commands did not turn into a message themselves
        if os.environ.get("XOBITO_LOG_LEVEL", "").upper() == "DEBUG":
            traceback.print_exc()
        sys.stderr.write(f"error: {describe(exc)}\n")
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
