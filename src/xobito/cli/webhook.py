"""``xobito webhook add|list|update|remove|rotate-secret|test|logs|redeliver``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.cli import forward
from xobito.cli.common import Json, done, run, show
from xobito.config import get_settings
from xobito.webhook.schemas import endpoint_record, log_record
from xobito.webhook.service import WebhookService
from xobito.workspace.service import WorkspaceService

app = typer.Typer(help="Outbound webhook endpoints of a workspace.", no_args_is_help=True)
app.add_typer(forward.app, name="forward")
COLUMNS = ["id", "url", "enabled", "events", "disabled_reason", "secret_rotation_ends_at"]
Sub = Annotated[str, typer.Argument(help="The workspace")]
EndpointId = Annotated[int, typer.Argument(help="The webhook endpoint's id")]


async def _service(session: AsyncSession, subdomain: str) -> WebhookService:
    ws = await WorkspaceService(session).get(subdomain)
    return WebhookService(session, ws.id, get_settings())


def _body(url: str | None, events: list[str] | None, enabled: bool | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if url is not None:
        body["url"] = url
    if events:
        body["events"] = events
    if enabled is not None:
        body["enabled"] = enabled
    return body


@app.command("add")
def add(
    subdomain: Sub,
    url: Annotated[str, typer.Argument(help="http(s) URL receiving the POSTs")],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event", "-e", help="Repeat per event (e.g. contacts.created); default: all"
        ),
    ] = None,
    disabled: Annotated[bool, typer.Option(help="Create it disabled")] = False,
    as_json: Json = False,
) -> None:
    """Add an endpoint and print its signing secret (shown only this once)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        endpoint, secret = await (await _service(session, subdomain)).create(
            _body(url, event, False if disabled else None)
        )
        return endpoint_record(endpoint, secret)

    record = run(work)
    done(
        record,
        as_json,
        f"Webhook {record['id']} created. Signing secret (not shown again):",
        record["secret"],
    )


@app.command("list")
def list_(subdomain: Sub, as_json: Json = False) -> None:
    """List endpoints (never their secrets)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [endpoint_record(e) for e in await (await _service(session, subdomain)).list()]

    show(run(work), COLUMNS, as_json)


@app.command("update")
def update(
    subdomain: Sub,
    endpoint_id: EndpointId,
    url: Annotated[str | None, typer.Option(help="New URL")] = None,
    event: Annotated[list[str] | None, typer.Option("--event", "-e", help="Replace events")] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="Switch")] = None,
    as_json: Json = False,
) -> None:
    """Change an endpoint's URL, events or enabled flag."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        return endpoint_record(
            await (await _service(session, subdomain)).update(
                endpoint_id, _body(url, event, enabled)
            )
        )

    show([run(work)], COLUMNS, as_json)


@app.command("remove")
def remove(subdomain: Sub, endpoint_id: EndpointId, as_json: Json = False) -> None:
    """Delete an endpoint (its pending deliveries go with it)."""

    async def work(session: AsyncSession) -> None:
        await (await _service(session, subdomain)).remove(endpoint_id)

    run(work)
    done({"id": endpoint_id, "removed": True}, as_json, f"Webhook {endpoint_id} removed.")


@app.command("rotate-secret")
def rotate_secret(subdomain: Sub, endpoint_id: EndpointId, as_json: Json = False) -> None:
    """New secret; the old one keeps signing during the overlap (default 24 h)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        endpoint, secret = await (await _service(session, subdomain)).rotate(endpoint_id)
        return endpoint_record(endpoint, secret)

    record = run(work)
    done(
        record,
        as_json,
        f"New secret (old one valid until {record['secret_rotation_ends_at']}):",
        record["secret"],
    )


@app.command("test")
def test(subdomain: Sub, endpoint_id: EndpointId, as_json: Json = False) -> None:
    """Queue a test event to the endpoint (delivered by the worker)."""

    async def work(session: AsyncSession) -> str:
        return await (await _service(session, subdomain)).test(endpoint_id)

    event_id = run(work)
    done({"event_id": event_id}, as_json, f"queued test event {event_id}")


@app.command("logs")
def logs(
    subdomain: Sub,
    endpoint_id: EndpointId,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
    as_json: Json = False,
) -> None:
    """Delivery attempts of an endpoint, newest first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        rows = await (await _service(session, subdomain)).logs(endpoint_id, limit, 0)
        return [log_record(r) for r in rows]

    show(
        run(work),
        ["created_at", "event", "event_id", "attempt", "status_code", "duration_ms", "error"],
        as_json,
    )


@app.command("redeliver")
def redeliver(
    subdomain: Sub,
    event_id: Annotated[str, typer.Argument(help="The event id (evt_...)")],
    as_json: Json = False,
) -> None:
    """Send an event again to the endpoints it went to."""

    async def work(session: AsyncSession) -> int:
        return await (await _service(session, subdomain)).redeliver(event_id)

    count = run(work)
    done(
        {"event_id": event_id, "deliveries": count},
        as_json,
        f"queued {count} deliveries of {event_id}",
    )
