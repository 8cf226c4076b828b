"""The commands that Xobito's webhook endpoints and Meta's webhook forwards share (add, list,
update, remove, rotate-secret, test, logs): one set, installed on each kind's Typer app.

No ``from __future__ import annotations`` here: the commands' annotations are built from the
kind's options at install time, and Typer reads them as objects.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.cli.common import Json, done, run, show
from xobito.config import get_settings
from xobito.webhook.schemas import log_record
from xobito.webhook.service import WebhookService
from xobito.workspace.service import WorkspaceService

Sub = Annotated[str, typer.Argument(help="The workspace")]
LOG_COLUMNS = ["created_at", "event", "event_id", "attempt", "status_code", "duration_ms", "error"]


@dataclass(frozen=True)
class EndpointKind:
    service: type[WebhookService]
    record: Callable[..., dict[str, Any]]  # (endpoint, secret=None) -> the CLI's record
    title: str  # "Webhook": how messages name one
    one: str  # "an endpoint": how help texts name one
    many: str  # "endpoints"
    values: str  # the body's list field: "events" or "fields"
    flags: tuple[str, str]  # its repeatable option: ("--event", "-e")
    values_help: str  # help of that option when adding
    add_help: str  # what `add` does with no values given

    @property
    def columns(self) -> list[str]:
        return ["id", "url", "enabled", self.values, "disabled_reason", "secret_rotation_ends_at"]


async def open_service(kind: EndpointKind, session: AsyncSession, subdomain: str) -> WebhookService:
    ws = await WorkspaceService(session).get(subdomain)
    return kind.service(session, ws.id, get_settings())


def install(app: typer.Typer, kind: EndpointKind) -> None:
    """Add the shared commands to ``app``, worded for ``kind``."""
    Id = Annotated[int, typer.Argument(help=f"The {kind.one.split()[1]}'s id")]
    Values = Annotated[
        list[str] | None, typer.Option(*kind.flags, help=kind.values_help)
    ]
    Replace = Annotated[
        list[str] | None, typer.Option(*kind.flags, help=f"Replace {kind.values}")
    ]

    def body(url: str | None, values: list[str] | None, enabled: bool | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if url is not None:
            out["url"] = url
        if values:
            out[kind.values] = values
        if enabled is not None:
            out["enabled"] = enabled
        return out

    @app.command("add", help=kind.add_help)
    def add(
        subdomain: Sub,
        url: Annotated[str, typer.Argument(help="http(s) URL receiving the POSTs")],
        values: Values = None,
        disabled: Annotated[bool, typer.Option(help="Create it disabled")] = False,
        as_json: Json = False,
    ) -> None:
        async def work(session: AsyncSession) -> dict[str, Any]:
            service = await open_service(kind, session, subdomain)
            endpoint, secret = await service.create(
                body(url, values, False if disabled else None)
            )
            return kind.record(endpoint, secret)

        record = run(work)
        done(
            record,
            as_json,
            f"{kind.title} {record['id']} created. Signing secret (not shown again):",
            record["secret"],
        )

    @app.command("list", help=f"List {kind.many} (never their secrets).")
    def list_(subdomain: Sub, as_json: Json = False) -> None:
        async def work(session: AsyncSession) -> list[dict[str, Any]]:
            service = await open_service(kind, session, subdomain)
            return [kind.record(e) for e in await service.list()]

        show(run(work), kind.columns, as_json)

    @app.command("update", help=f"Change {kind.one}'s URL, {kind.values} or enabled flag.")
    def update(
        subdomain: Sub,
        endpoint_id: Id,
        url: Annotated[str | None, typer.Option(help="New URL")] = None,
        values: Replace = None,
        enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="Switch")] = None,
        as_json: Json = False,
    ) -> None:
        async def work(session: AsyncSession) -> dict[str, Any]:
            service = await open_service(kind, session, subdomain)
            return kind.record(await service.update(endpoint_id, body(url, values, enabled)))

        show([run(work)], kind.columns, as_json)

    @app.command("remove", help=f"Delete {kind.one} (its pending deliveries go with it).")
    def remove(subdomain: Sub, endpoint_id: Id, as_json: Json = False) -> None:
        async def work(session: AsyncSession) -> None:
            await (await open_service(kind, session, subdomain)).remove(endpoint_id)

        run(work)
        done({"id": endpoint_id, "removed": True}, as_json, f"{kind.title} {endpoint_id} removed.")

    @app.command(
        "rotate-secret", help="New secret; the old one keeps signing during the overlap (24 h)."
    )
    def rotate_secret(subdomain: Sub, endpoint_id: Id, as_json: Json = False) -> None:
        async def work(session: AsyncSession) -> dict[str, Any]:
            service = await open_service(kind, session, subdomain)
            endpoint, secret = await service.rotate(endpoint_id)
            return kind.record(endpoint, secret)

        record = run(work)
        done(
            record,
            as_json,
            f"New secret (old one valid until {record['secret_rotation_ends_at']}):",
            record["secret"],
        )

    @app.command("test", help=f"Queue a test event to {kind.one} (delivered by the worker).")
    def test(subdomain: Sub, endpoint_id: Id, as_json: Json = False) -> None:
        async def work(session: AsyncSession) -> str:
            return await (await open_service(kind, session, subdomain)).test(endpoint_id)

        event_id = run(work)
        done({"event_id": event_id}, as_json, f"queued test event {event_id}")

    @app.command("logs", help=f"Delivery attempts of {kind.one}, newest first.")
    def logs(
        subdomain: Sub,
        endpoint_id: Id,
        limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
        as_json: Json = False,
    ) -> None:
        async def work(session: AsyncSession) -> list[dict[str, Any]]:
            service = await open_service(kind, session, subdomain)
            return [log_record(r) for r in await service.logs(endpoint_id, limit, 0)]

        show(run(work), LOG_COLUMNS, as_json)
