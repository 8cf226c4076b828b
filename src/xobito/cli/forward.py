"""``xobito webhook forward add|list|update|remove|rotate-secret|test|logs``: Meta webhook
forwards of a workspace (redelivery: ``xobito webhook redeliver``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.cli.common import Json, done, run, show
from xobito.config import get_settings
from xobito.webhook.forward_schemas import META_FIELDS, forward_record
from xobito.webhook.forward_service import ForwardService
from xobito.webhook.schemas import log_record
from xobito.workspace.service import WorkspaceService

app = typer.Typer(
    help="Forward Meta's raw webhooks (chosen fields) to a URL, signed.", no_args_is_help=True
)
COLUMNS = ["id", "url", "enabled", "fields", "disabled_reason", "secret_rotation_ends_at"]
Sub = Annotated[str, typer.Argument(help="The workspace")]
ForwardId = Annotated[int, typer.Argument(help="The forward's id")]
FieldOption = Annotated[
    list[str] | None,
    typer.Option(
        "--field", "-f", help=f"Repeat per Meta field ({', '.join(META_FIELDS[:3])}, ...)"
    ),
]


async def _service(session: AsyncSession, subdomain: str) -> ForwardService:
    ws = await WorkspaceService(session).get(subdomain)
    return ForwardService(session, ws.id, get_settings())


def _body(url: str | None, fields: list[str] | None, enabled: bool | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if url is not None:
        body["url"] = url
    if fields:
        body["fields"] = fields
    if enabled is not None:
        body["enabled"] = enabled
    return body


@app.command("add")
def add(
    subdomain: Sub,
    url: Annotated[str, typer.Argument(help="http(s) URL receiving the POSTs")],
    field: FieldOption = None,
    disabled: Annotated[bool, typer.Option(help="Create it disabled")] = False,
    as_json: Json = False,
) -> None:
    """Add a forward (default: every field) and print its signing secret (shown only once)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        forward, secret = await (await _service(session, subdomain)).create(
            _body(url, field, False if disabled else None)
        )
        return forward_record(forward, secret)

    record = run(work)
    done(
        record,
        as_json,
        f"Meta forward {record['id']} created. Signing secret (not shown again):",
        record["secret"],
    )


@app.command("list")
def list_(subdomain: Sub, as_json: Json = False) -> None:
    """List forwards (never their secrets)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [forward_record(f) for f in await (await _service(session, subdomain)).list()]

    show(run(work), COLUMNS, as_json)


@app.command("update")
def update(
    subdomain: Sub,
    forward_id: ForwardId,
    url: Annotated[str | None, typer.Option(help="New URL")] = None,
    field: FieldOption = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="Switch")] = None,
    as_json: Json = False,
) -> None:
    """Change a forward's URL, fields (replaced) or enabled flag."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        return forward_record(
            await (await _service(session, subdomain)).update(
                forward_id, _body(url, field, enabled)
            )
        )

    show([run(work)], COLUMNS, as_json)


@app.command("remove")
def remove(subdomain: Sub, forward_id: ForwardId, as_json: Json = False) -> None:
    """Delete a forward (its pending deliveries go with it)."""

    async def work(session: AsyncSession) -> None:
        await (await _service(session, subdomain)).remove(forward_id)

    run(work)
    done({"id": forward_id, "removed": True}, as_json, f"Meta forward {forward_id} removed.")


@app.command("rotate-secret")
def rotate_secret(subdomain: Sub, forward_id: ForwardId, as_json: Json = False) -> None:
    """New secret; the old one keeps signing during the overlap (default 24 h)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        forward, secret = await (await _service(session, subdomain)).rotate(forward_id)
        return forward_record(forward, secret)

    record = run(work)
    done(
        record,
        as_json,
        f"New secret (old one valid until {record['secret_rotation_ends_at']}):",
        record["secret"],
    )


@app.command("test")
def test(subdomain: Sub, forward_id: ForwardId, as_json: Json = False) -> None:
    """Queue a Meta-shaped test event to the forward (delivered by the worker)."""

    async def work(session: AsyncSession) -> str:
        return await (await _service(session, subdomain)).test(forward_id)

    event_id = run(work)
    done({"event_id": event_id}, as_json, f"queued test event {event_id}")


@app.command("logs")
def logs(
    subdomain: Sub,
    forward_id: ForwardId,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
    as_json: Json = False,
) -> None:
    """Delivery attempts of a forward, newest first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        rows = await (await _service(session, subdomain)).logs(forward_id, limit, 0)
        return [log_record(r) for r in rows]

    show(
        run(work),
        ["created_at", "event", "event_id", "attempt", "status_code", "duration_ms", "error"],
        as_json,
    )
