"""``xobito webhook add|list|update|remove|rotate-secret|test|logs|redeliver``."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.cli import forward
from xobito.cli.common import Json, done, run
from xobito.cli.endpoints import EndpointKind, Sub, install, open_service
from xobito.webhook.schemas import endpoint_record
from xobito.webhook.service import WebhookService

app = typer.Typer(help="Outbound webhook endpoints of a workspace.", no_args_is_help=True)
app.add_typer(forward.app, name="forward")
ENDPOINTS = EndpointKind(
    service=WebhookService,
    record=endpoint_record,
    title="Webhook",
    one="an endpoint",
    many="endpoints",
    values="events",
    flags=("--event", "-e"),
    values_help="Repeat per event (e.g. contacts.created); default: all",
    add_help="Add an endpoint and print its signing secret (shown only this once).",
)
install(app, ENDPOINTS)


@app.command("redeliver")
def redeliver(
    subdomain: Sub,
    event_id: Annotated[str, typer.Argument(help="The event id (evt_...)")],
    as_json: Json = False,
) -> None:
    """Send an event again to the endpoints it went to."""

    async def work(session: AsyncSession) -> int:
        return await (await open_service(ENDPOINTS, session, subdomain)).redeliver(event_id)

    count = run(work)
    done(
        {"event_id": event_id, "deliveries": count},
        as_json,
        f"queued {count} deliveries of {event_id}",
    )
