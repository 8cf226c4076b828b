"""``xobito user ...``: the first owner from the command line, invitations, resets."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.cli.test_cli import Cli
from tests.web.conftest import WebClient

LINK = re.compile(r"http://127\.0\.0\.1:8000(/app/(invite|reset)/[A-Za-z0-9_-]+)")


def test_create_generates_and_prints_a_password_once(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    out = cli.ok("user", "create", "acme", "--email", "boss@example.com", "--role", "owner").stdout
    assert "User boss@example.com is owner of acme." in out
    assert "Generated password (shown once):" in out
    again = cli("user", "create", "acme", "--email", "boss@example.com", "--role", "owner")
    assert again.exit_code == 1
    assert "The email has already been taken." in again.output
    bad = cli("user", "create", "acme", "--email", "x@example.com", "--role", "boss")
    assert bad.exit_code == 1 and "The selected role is invalid." in bad.output
    listed = cli.json("user", "list", "acme")
    assert [(u["email"], u["role"]) for u in listed] == [("boss@example.com", "owner")]


async def test_the_printed_password_and_links_work(cli: Cli, app: object, browser: object) -> None:
    await asyncio.to_thread(cli.ok, "workspace", "create", "acme", "--name", "Acme")
    out = (
        await asyncio.to_thread(
            cli.ok,
            "user",
            "create",
            "acme",
            "--email",
            "o@example.com",
            "--role",
            "owner",
            "--password",
            "chosen-password",
        )
    ).stdout
    assert "Generated" not in out
    client: WebClient = await browser()  # type: ignore[operator]
    await client.sign_in("o@example.com", "chosen-password")

    invite = (
        await asyncio.to_thread(
            cli.ok, "user", "invite", "acme", "--email", "n@example.com", "--role", "agent"
        )
    ).stdout
    path = LINK.search(invite.replace("\n", ""))
    assert path, invite
    newcomer: WebClient = await browser()  # type: ignore[operator]
    await newcomer.get(path.group(1))
    r = await newcomer.post(
        path.group(1),
        {"name": "Nia", "password": "nia-password", "password_confirmation": "nia-password"},
    )
    assert (r.status_code, r.headers["location"]) == (303, "/app/acme/contacts")

    await asyncio.to_thread(
        cli.ok, "user", "set-role", "acme", "--email", "n@example.com", "--role", "admin"
    )
    roles = {
        u["email"]: u["role"] for u in await asyncio.to_thread(cli.json, "user", "list", "acme")
    }
    assert roles == {"o@example.com": "owner", "n@example.com": "admin"}

    reset = (await asyncio.to_thread(cli.ok, "user", "reset-password", "n@example.com")).stdout
    link = LINK.search(reset.replace("\n", ""))
    assert link, reset
    # The reset ended Nia's session: her next page asks her to sign in.
    r = await newcomer.get("/app/acme/contacts")
    assert r.status_code == 303
    await newcomer.get(link.group(1))
    r = await newcomer.post(
        link.group(1), {"password": "fresh-password", "password_confirmation": "fresh-password"}
    )
    assert r.status_code == 303
    await newcomer.sign_in("n@example.com", "fresh-password")

    await asyncio.to_thread(cli.ok, "user", "remove", "acme", "--email", "n@example.com")
    r = await newcomer.get("/app/acme/contacts")
    assert r.status_code == 404
    assert isinstance(r, httpx.Response)
