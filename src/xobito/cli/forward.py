"""``xobito webhook forward add|list|update|remove|rotate-secret|test|logs``: Meta webhook
forwards of a workspace (redelivery: ``xobito webhook redeliver``)."""

from __future__ import annotations

import typer

from xobito.cli.endpoints import EndpointKind, install
from xobito.webhook.forward_schemas import META_FIELDS, forward_record
from xobito.webhook.forward_service import ForwardService

app = typer.Typer(
    help="Forward Meta's raw webhooks (chosen fields) to a URL, signed.", no_args_is_help=True
)
FORWARDS = EndpointKind(
    service=ForwardService,
    record=forward_record,
    title="Meta forward",
    one="a forward",
    many="forwards",
    values="fields",
    flags=("--field", "-f"),
    values_help=f"Repeat per Meta field ({', '.join(META_FIELDS[:3])}, ...)",
    add_help="Add a forward (default: every field) and print its signing secret (shown once).",
)
install(app, FORWARDS)
