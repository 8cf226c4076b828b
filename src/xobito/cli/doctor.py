"""``xobito doctor <subdomain>``: what is wrong with a workspace's WhatsApp connection."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.text import Text

from xobito.cli.common import console, run
from xobito.config import get_settings
from xobito.connection.doctor import DoctorReport, diagnose
from xobito.workspace.service import WorkspaceService

MARKS = {
    "ok": ("✔ ok", "green"),
    "warning": ("! warning", "yellow"),
    "error": ("✖ error", "red"),
    "skipped": ("- skipped", "dim"),
}


def doctor(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the workspace's WhatsApp connection: token, numbers, webhook subscription and
    signatures, templates, quality rating and messaging limit. Exits 1 when a check fails."""
    from xobito.app import make_providers

    async def work(session: Any) -> DoctorReport:
        ws = await WorkspaceService(session).get(subdomain)
        settings = get_settings()
        providers = make_providers(settings)
        try:
            return await diagnose(session, ws, providers, settings)
        finally:
            for provider in providers.values():
                await provider.close()

    report = run(work)
    if as_json:
        typer.echo(json.dumps(report.record(), indent=2, ensure_ascii=False))
    else:
        show(report)
    if report.has_errors:
        raise typer.Exit(1)


def show(report: DoctorReport) -> None:
    provider = report.provider or "not connected"
    console.print(Text(f"WhatsApp connection of {report.subdomain} ({provider})", style="bold"))
    width = max(len(mark) for mark, _ in MARKS.values())
    for check in report.checks:
        mark, style = MARKS[check.status]
        line = Text(f"{mark:<{width}}  ", style=style)
        line.append(check.title, style="bold")
        console.print(line)
        pad = " " * (width + 2)
        console.print(Text(pad + check.explanation), highlight=False)
        if check.action:
            console.print(Text(f"{pad}→ {check.action}", style="cyan"), highlight=False)
    style = {"ok": "green", "warning": "yellow", "error": "red"}[report.status]
    console.print(Text(report.summary, style=f"bold {style}"))
