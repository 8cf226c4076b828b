"""``xobito message timeline``: everything that happened to one message, in order."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from xobito.chat.timeline import TimelineService, message_key
from xobito.cli.common import console, run
from xobito.workspace.service import WorkspaceService

app = typer.Typer(help="Messages.", no_args_is_help=True)


@app.command("timeline")
def timeline(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    message_id: Annotated[str, typer.Argument(help="The wamid, or the message's id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Show each entry's raw detail")] = False,
) -> None:
    """The request that created it, Meta's answer, each status webhook, each webhook
    delivery to the workspace's endpoints."""

    async def work(session: Any) -> dict[str, Any]:
        ws = await WorkspaceService(session).get(subdomain)
        return await TimelineService(session, ws.id).record(message_key(message_id))

    found = run(work)
    if as_json:
        console.print_json(json.dumps(found))
        return
    m = found["message"]
    console.print(
        f"message {m['id']} ({m['message_id'] or 'no wamid'}): {m['direction']} {m['type']}, "
        f"{m['status']}",
        highlight=False,
    )
    if m["error_reason"]:
        console.print(f"  why: {m['error_reason']}", highlight=False)
    for entry in found["entries"]:
        console.print(f"{entry['at']}  {entry['kind']:<14}  {entry['summary']}", highlight=False)
        if raw and entry["detail"]:
            console.print_json(json.dumps(entry["detail"]))
