"""``xobito workspace create|list|update``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from xobito.cli.common import Json, fail, run, show
from xobito.workspace.schemas import workspace_record
from xobito.workspace.service import WorkspaceService

app = typer.Typer(help="Manage workspaces (tenants).", no_args_is_help=True)
COLUMNS = [
    "id",
    "subdomain",
    "name",
    "max_contacts",
    "rate_limit_max",
    "rate_limit_decay",
    "enforce_care_window",
]


def _settings(
    max_contacts: int | None,
    rate_limit_max: int | None,
    rate_limit_decay: int | None,
    care_window: bool | None,
) -> dict[str, Any]:
    given = {
        "max_contacts": max_contacts,
        "rate_limit_max": rate_limit_max,
        "rate_limit_decay": rate_limit_decay,
        "enforce_care_window": care_window,
    }
    return {k: v for k, v in given.items() if v is not None}


@app.command("create")
def create(
    subdomain: Annotated[
        str,
        typer.Argument(help="Path segment of the workspace (a-z, 0-9 and dashes; 1-63 characters)"),
    ],
    name: Annotated[str, typer.Option(help="Display name")],
    max_contacts: Annotated[int | None, typer.Option(help="Plan limit on contacts")] = None,
    rate_limit_max: Annotated[int | None, typer.Option(help="Requests per window")] = None,
    rate_limit_decay: Annotated[int | None, typer.Option(help="Window in minutes")] = None,
    care_window: Annotated[
        bool | None,
        typer.Option("--care-window/--no-care-window", help="Enforce the 24-hour care window"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Create a workspace."""
    body = {
        "subdomain": subdomain,
        "name": name,
        **_settings(max_contacts, rate_limit_max, rate_limit_decay, care_window),
    }
    record = run(lambda s: _create(s, body))
    show([record], COLUMNS, as_json)


async def _create(session: Any, body: dict[str, Any]) -> dict[str, Any]:
    return workspace_record(await WorkspaceService(session).create(body))


@app.command("list")
def list_(as_json: Json = False) -> None:
    """List workspaces."""

    async def work(session: Any) -> list[dict[str, Any]]:
        return [workspace_record(ws) for ws in await WorkspaceService(session).list()]

    show(run(work), COLUMNS, as_json)


@app.command("update")
def update(
    subdomain: Annotated[str, typer.Argument(help="The workspace to change")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    max_contacts: Annotated[int | None, typer.Option(help="Plan limit on contacts")] = None,
    rate_limit_max: Annotated[int | None, typer.Option(help="Requests per window")] = None,
    rate_limit_decay: Annotated[int | None, typer.Option(help="Window in minutes")] = None,
    care_window: Annotated[
        bool | None,
        typer.Option("--care-window/--no-care-window", help="Enforce the 24-hour care window"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Change a workspace's settings (only the options given)."""
    body = _settings(max_contacts, rate_limit_max, rate_limit_decay, care_window)
    if name is not None:
        body["name"] = name
    if not body:
        fail("nothing to change: give at least one option (see --help)", code=2)

    async def work(session: Any) -> dict[str, Any]:
        return workspace_record(await WorkspaceService(session).update(subdomain, body))

    show([run(work)], COLUMNS, as_json)
