"""``xobito user create|list|invite|set-role|remove|reset-password``: dashboard accounts."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from xobito.account.invitations import InvitationService
from xobito.account.members import MemberService
from xobito.account.repository import UserRepository
from xobito.account.resets import PasswordResetService
from xobito.account.schemas import user_record
from xobito.account.service import UserService, note_everywhere
from xobito.cli.common import Json, done, fail, run, show
from xobito.config import get_settings
from xobito.kit.errors import NotFound
from xobito.workspace.service import WorkspaceService

app = typer.Typer(help="Manage dashboard users and their roles.", no_args_is_help=True)
COLUMNS = ["id", "email", "name", "role", "last_sign_in_at"]
BaseUrl = Annotated[str, typer.Option(help="The dashboard's public base URL, for the printed link")]
DEFAULT_BASE = "http://127.0.0.1:8000"


def _ask_password() -> str | None:
    """Interactive: prompt (hidden, twice); empty means "generate one". Scripts: generate."""
    if not sys.stdin.isatty():
        return None
    first: str = typer.prompt(
        "Password (empty: generate one)", default="", hide_input=True, show_default=False
    )
    if not first:
        return None
    second: str = typer.prompt("Repeat the password", hide_input=True)
    if first != second:
        fail("the two passwords differ")
    return first


@app.command("create")
def create(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    email: Annotated[str, typer.Option(help="Sign-in email")],
    role: Annotated[str, typer.Option(help="owner, admin or agent")] = "agent",
    name: Annotated[str | None, typer.Option(help="Display name (default: from the email)")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="XOBITO_USER_PASSWORD", help="For scripts; else prompted or generated"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Create a dashboard user with a role in a workspace (the first owner, typically).

    Without --password you are prompted; press enter (or run non-interactively) to have a
    password generated and printed once."""
    chosen = password if password is not None else _ask_password()
    body: dict[str, Any] = {"email": email, "role": role, "name": name, "password": chosen}

    async def work(session: Any) -> tuple[dict[str, Any], str | None, bool]:
        ws = await WorkspaceService(session).get(subdomain)
        made = await UserService(session, get_settings()).create(
            ws, {k: v for k, v in body.items() if v is not None}
        )
        record = user_record(made.user, made.membership)
        return record, made.generated_password, made.existing_account

    record, generated, existing = run(work)
    lines = [f"User {record['email']} is {record['role']} of {subdomain}."]
    if existing:
        lines.append("The account already existed; its password is unchanged.")
    elif generated:
        lines += ["Generated password (shown once):", generated]
    done(
        {**record, "existing_account": existing, "generated_password": generated},
        as_json,
        *lines,
    )


@app.command("list")
def list_(
    subdomain: Annotated[str, typer.Argument(help="The workspace")], as_json: Json = False
) -> None:
    """List a workspace's dashboard users and their roles."""

    async def work(session: Any) -> list[dict[str, Any]]:
        ws = await WorkspaceService(session).get(subdomain)
        rows, _ = await MemberService(session, ws.id, get_settings()).page(1, 10_000)
        return [user_record(u, m) for m, u in rows]

    show(run(work), COLUMNS, as_json)


@app.command("invite")
def invite(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    email: Annotated[str, typer.Option(help="Who to invite")],
    role: Annotated[str, typer.Option(help="owner, admin or agent")] = "agent",
    base_url: BaseUrl = DEFAULT_BASE,
    as_json: Json = False,
) -> None:
    """Print a one-time invitation link (valid 7 days) for an email address."""

    async def work(session: Any) -> str:
        ws = await WorkspaceService(session).get(subdomain)
        _, secret = await InvitationService(session, get_settings()).create(
            ws.id, {"email": email, "role": role}, actor_role="owner", invited_by=None
        )
        return secret

    link = f"{base_url.rstrip('/')}/app/invite/{run(work)}"
    done(
        {"email": email, "role": role, "link": link},
        as_json,
        f"Invitation for {email} as {role} (one use, expires in 7 days):",
        link,
    )


@app.command("set-role")
def set_role(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    email: Annotated[str, typer.Option(help="The user")],
    role: Annotated[str, typer.Option(help="owner, admin or agent")],
    as_json: Json = False,
) -> None:
    """Change a user's role in a workspace."""

    async def work(session: Any) -> None:
        ws = await WorkspaceService(session).get(subdomain)
        service = MemberService(session, ws.id, get_settings())
        membership = await service.of_user(await _user_id(session, email))
        await service.change_role("owner", membership.id, {"role": role})

    run(work)
    done({"email": email, "role": role}, as_json, f"{email} is now {role} of {subdomain}.")


@app.command("remove")
def remove(
    subdomain: Annotated[str, typer.Argument(help="The workspace")],
    email: Annotated[str, typer.Option(help="The user")],
    as_json: Json = False,
) -> None:
    """Remove a user from a workspace (the account stays)."""

    async def work(session: Any) -> None:
        ws = await WorkspaceService(session).get(subdomain)
        service = MemberService(session, ws.id, get_settings())
        membership = await service.of_user(await _user_id(session, email))
        await service.remove("owner", membership.id)

    run(work)
    done({"email": email, "removed": True}, as_json, f"{email} removed from {subdomain}.")


@app.command("reset-password")
def reset_password(
    email: Annotated[str, typer.Argument(help="The user")],
    base_url: BaseUrl = DEFAULT_BASE,
    as_json: Json = False,
) -> None:
    """Void a user's password, end their sessions, and print a one-time link to set a new one."""

    async def work(session: Any) -> str:
        user = await UserRepository(session).by_email(email)
        if user is None:
            raise NotFound("User not found")
        secret = await PasswordResetService(session, get_settings()).issue(user)
        await note_everywhere(
            session, user, "member.password_reset", f"Reset the password of {user.email}"
        )
        return secret

    link = f"{base_url.rstrip('/')}/app/reset/{run(work)}"
    done(
        {"email": email, "link": link},
        as_json,
        f"Password of {email} reset. Link to set a new one (one use):",
        link,
    )


async def _user_id(session: Any, email: str) -> int:
    user = await UserRepository(session).by_email(email)
    if user is None:
        raise NotFound("User not found")
    return user.id
