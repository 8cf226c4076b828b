"""``xobito token create|list|revoke``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from xobito.auth.abilities import ABILITIES
from xobito.auth.schemas import token_record
from xobito.auth.service import TokenService
from xobito.cli.common import Json, done, fail, run, show
from xobito.workspace.service import WorkspaceService

app = typer.Typer(help="Manage a workspace's API tokens.", no_args_is_help=True)
COLUMNS = ["id", "name", "token_prefix", "abilities", "is_active", "expires_at", "last_used_at"]


@app.command("create")
def create(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    name: Annotated[str, typer.Option(help="What the token is for")],
    ability: Annotated[
        list[str] | None,
        typer.Option(
            "--ability",
            "-a",
            help="Repeat for each ability; default: every ability. One of: "
            + ", ".join(ABILITIES),
        ),
    ] = None,
    rate_limit_max: Annotated[int | None, typer.Option(help="Own requests-per-window")] = None,
    monthly_quota: Annotated[int | None, typer.Option(help="Requests per calendar month")] = None,
    expires_at: Annotated[str | None, typer.Option(help="ISO-8601 with timezone")] = None,
    as_json: Json = False,
) -> None:
    """Create a token and print its plaintext, which is shown only this once."""
    unknown = [a for a in ability or () if a not in ABILITIES]
    if unknown:
        fail(f"unknown ability {', '.join(unknown)}; the abilities are: {', '.join(ABILITIES)}")
    body: dict[str, Any] = {"name": name, "abilities": ability or list(ABILITIES)}
    for key, value in (
        ("rate_limit_max", rate_limit_max),
        ("monthly_quota", monthly_quota),
        ("expires_at", expires_at),
    ):
        if value is not None:
            body[key] = value

    async def work(session: Any) -> dict[str, Any]:
        ws = await WorkspaceService(session).get(subdomain)
        token, plaintext = await TokenService(session).create(ws, body)
        return token_record(token, plaintext)

    record = run(work)
    done(
        [record],  # a list, as --json printed it first
        as_json,
        f"Token {record['id']} created for {subdomain}. Store it now; it is not shown again:",
        record["token"],
    )


@app.command("list")
def list_(
    subdomain: Annotated[str, typer.Argument(help="The workspace")], as_json: Json = False
) -> None:
    """List a workspace's tokens (never their secrets)."""

    async def work(session: Any) -> list[dict[str, Any]]:
        ws = await WorkspaceService(session).get(subdomain)
        return [token_record(t) for t in await TokenService(session).list(ws)]

    show(run(work), COLUMNS, as_json)


@app.command("revoke")
def revoke(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    token_id: Annotated[int, typer.Argument(help="The token's id")],
    as_json: Json = False,
) -> None:
    """Revoke a token (it stops working everywhere within a second)."""

    async def work(session: Any) -> dict[str, Any]:
        ws = await WorkspaceService(session).get(subdomain)
        return token_record(await TokenService(session).revoke(ws, token_id))

    record = run(work)
    done(record, as_json, f"Token {record['id']} revoked.")
