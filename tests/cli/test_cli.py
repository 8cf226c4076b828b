"""The ``xobito`` command line (docs/api/admin.md) against the test backend's database.

The commands run ``asyncio.run`` themselves, so most tests here are plain ``def`` tests. The
few that also call the HTTP app run the command in a worker thread and stay async.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
from typer.testing import CliRunner, Result

from tests.backends import Backend
from xobito.auth.abilities import ABILITIES
from xobito.cli.main import app
from xobito.config import get_settings
from xobito.kit.migrate import head_revision

TOKEN = re.compile(r"apitk_[A-Za-z0-9]{64}")
BOX = re.compile(r"[│╭╮╰╯─]")


class Cli:
    """Runs ``xobito ...`` with ``XOBITO_DATABASE_URL`` pointing at ``database_url``."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.runner = CliRunner()

    def __call__(self, *args: str, database_url: str | None = None) -> Result:
        env = {"XOBITO_DATABASE_URL": database_url or self.database_url, "COLUMNS": "200"}
        get_settings.cache_clear()
        try:
            return self.runner.invoke(app, list(args), env=env)
        finally:
            get_settings.cache_clear()

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)


@pytest.fixture
def cli(backend: Backend) -> Iterator[Cli]:
    get_settings.cache_clear()
    yield Cli(backend.database_url)
    get_settings.cache_clear()


def flat(text: str) -> str:
    return " ".join(BOX.sub(" ", text).split())


def commands() -> list[tuple[list[str], Any]]:
    """Every command and subcommand of ``xobito`` (typer's click commands), with its argv."""
    found: list[tuple[list[str], Any]] = []

    def walk(path: list[str], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*path, name], sub)

    walk([], typer.main.get_command(app))
    return found


COMMANDS = commands()


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "xobito" for p, _ in COMMANDS]
)
def test_help_of_every_command(cli: Cli, path: list[str], command: Any) -> None:
    result = cli.ok(*path, "--help")
    out = flat(result.stdout)
    assert command.help, f"{path} has no description"
    assert flat(command.help.splitlines()[0]) in out
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            assert flat(text) in out, (path, param.name)


def test_version(cli: Cli) -> None:
    from xobito import __version__

    result = cli.ok("--version")
    assert result.stdout == f"xobito {__version__}\n"


def test_all_spec_commands_exist() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    expected = {
        "serve",
        "db upgrade",
        "workspace create",
        "workspace list",
        "workspace update",
        "token create",
        "token list",
        "token revoke",
        "demo",
    }
    assert expected <= paths


# -- workspace ----------------------------------------------------------------------------------


def test_workspace_create_and_list(cli: Cli) -> None:
    created = cli.json(
        "workspace", "create", "acme", "--name", "Acme Ltd", "--max-contacts", "10",
        "--rate-limit-max", "30", "--no-care-window",
    )  # fmt: skip
    assert len(created) == 1
    record = created[0]
    assert record["subdomain"] == "acme"
    assert record["name"] == "Acme Ltd"
    assert record["max_contacts"] == 10
    assert record["rate_limit_max"] == 30
    assert record["rate_limit_decay"] == 1
    assert record["enforce_care_window"] == 0

    table = cli.ok("workspace", "create", "beta", "--name", "Beta").stdout
    for column in ("id", "subdomain", "name", "rate_limit_max", "enforce_care_window"):
        assert column in table
    assert "beta" in table and "Beta" in table

    listed = cli.json("workspace", "list")
    assert [w["subdomain"] for w in listed] == ["acme", "beta"]
    assert listed[0] == record
    table = cli.ok("workspace", "list").stdout
    assert "acme" in table and "Acme Ltd" in table and "beta" in table


def test_workspace_list_empty(cli: Cli) -> None:
    assert cli.json("workspace", "list") == []


def test_workspace_update_changes_only_given_options(cli: Cli) -> None:
    before = cli.json("workspace", "create", "acme", "--name", "Acme", "--max-contacts", "5")[0]
    after = cli.json("workspace", "update", "acme", "--rate-limit-max", "7", "--no-care-window")[0]
    assert after["rate_limit_max"] == 7
    assert after["enforce_care_window"] == 0
    same = ("id", "subdomain", "name", "max_contacts", "rate_limit_decay", "created_at")
    assert {k: after[k] for k in same} == {k: before[k] for k in same}
    table = cli.ok("workspace", "update", "acme", "--name", "Renamed").stdout
    assert "Renamed" in table
    assert cli.json("workspace", "list")[0]["name"] == "Renamed"


def test_workspace_update_with_nothing_to_change(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    result = cli("workspace", "update", "acme")
    assert result.exit_code == 2
    assert "nothing to change" in result.output


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            ["workspace", "create", "Bad_Sub", "--name", "x"],
            ["subdomain: The subdomain format is invalid."],
        ),
        (
            ["workspace", "create", "a" * 64, "--name", "n" * 256],
            [
                "subdomain: The subdomain format is invalid.",
                "name: The name may not be greater than 255 characters.",
            ],
        ),
        (
            ["workspace", "create", "ok", "--name", "x", "--rate-limit-max", "0"],
            ["rate_limit_max: The rate limit max must be at least 1."],
        ),
    ],
)
def test_workspace_validation_errors(cli: Cli, args: list[str], lines: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 1
    assert "error: Validation failed" in result.stderr
    for line in lines:
        assert line in result.stderr
    assert cli.json("workspace", "list") == []


def test_workspace_duplicate_and_unknown(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    result = cli("workspace", "create", "acme", "--name", "Other")
    assert result.exit_code == 1
    assert "subdomain: The subdomain has already been taken." in result.stderr
    result = cli("workspace", "update", "nope", "--name", "x")
    assert result.exit_code == 1
    assert "error: Workspace not found" in result.stderr
    assert len(cli.json("workspace", "list")) == 1


# -- token --------------------------------------------------------------------------------------


async def test_token_create_prints_a_working_plaintext_once(
    cli: Cli, client: httpx.AsyncClient
) -> None:
    await asyncio.to_thread(cli.ok, "workspace", "create", "acme", "--name", "Acme")
    result = await asyncio.to_thread(
        cli.ok, "token", "create", "acme", "--name", "crm", "-a", "contacts.read",
        "-a", "statuses.read", "--rate-limit-max", "99",
    )  # fmt: skip
    found = TOKEN.findall(result.stdout)
    assert len(found) == 1, result.stdout
    plaintext = found[0]
    assert "not shown again" in result.stdout

    headers = {"Authorization": f"Bearer {plaintext}"}
    ok = await client.get("/api/v1/acme/contacts", headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.headers["X-RateLimit-Limit"] == "99"
    assert (await client.get("/api/v1/acme/groups", headers=headers)).status_code == 403

    for args in (("token", "list", "acme"), ("token", "list", "acme", "--json")):
        listed = (await asyncio.to_thread(cli.ok, *args)).stdout
        assert plaintext not in listed
        assert plaintext[10:] not in listed
        assert plaintext[:10] in listed  # the prefix identifies it


def test_token_create_json_and_list(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    created = cli.json("token", "create", "acme", "--name", "all")[0]
    assert TOKEN.fullmatch(created["token"])
    assert created["abilities"] == list(ABILITIES)  # every ability by default
    listed = cli.json("token", "list", "acme")
    assert len(listed) == 1
    assert listed[0]["id"] == created["id"]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    assert listed[0]["token_prefix"] == created["token"][:10]
    table = cli.ok("token", "list", "acme").stdout
    assert "all" in table and created["token"][:10] in table
    assert created["token"] not in table


def test_token_revoke(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    first = cli.json("token", "create", "acme", "--name", "one")[0]
    second = cli.json("token", "create", "acme", "--name", "two")[0]
    result = cli.ok("token", "revoke", "acme", str(first["id"]))
    assert f"Token {first['id']} revoked." in result.stdout
    states = {t["id"]: t["is_active"] for t in cli.json("token", "list", "acme")}
    assert states == {first["id"]: 0, second["id"]: 1}


def test_token_revoke_of_another_workspace_is_not_found(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    cli.ok("workspace", "create", "beta", "--name", "Beta")
    theirs = cli.json("token", "create", "beta", "--name", "b")[0]
    result = cli("token", "revoke", "acme", str(theirs["id"]))
    assert result.exit_code == 1
    assert "error: Token not found" in result.stderr
    assert cli.json("token", "list", "beta")[0]["is_active"] == 1


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        # An unknown ability is refused before this (test_cli_help names the valid ones).
        (
            ["-a", "contacts.read", "--expires-at", "2000-01-01T00:00:00Z"],
            ["expires_at: The expires at must be a date after now."],
        ),
        (["--rate-limit-max", "0"], ["rate_limit_max: The rate limit max must be at least 1."]),
    ],
)
def test_token_validation_errors(cli: Cli, args: list[str], lines: list[str]) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    result = cli("token", "create", "acme", "--name", "x", *args)
    assert result.exit_code == 1
    assert "error: Validation failed" in result.stderr
    for line in lines:
        assert line in result.stderr
    assert TOKEN.search(result.output) is None
    assert cli.json("token", "list", "acme") == []


def test_token_commands_for_unknown_workspace(cli: Cli) -> None:
    for args in (
        ["token", "create", "nope", "--name", "x"],
        ["token", "list", "nope"],
        ["token", "revoke", "nope", "1"],
    ):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert "error: Workspace not found" in result.stderr


# -- db upgrade ---------------------------------------------------------------------------------


def test_db_upgrade_is_idempotent(cli: Cli, tmp_path: Path) -> None:
    # the suite's database is already at head: upgrading again changes nothing
    assert "database at head" in cli.ok("db", "upgrade").stdout
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    cli.ok("db", "upgrade")
    assert [w["subdomain"] for w in cli.json("workspace", "list")] == ["acme"]

    # a fresh database (its folder does not exist yet) is created and migrated, twice
    path = tmp_path / "new" / "fresh.db"
    url = f"sqlite+aiosqlite:///{path}"
    for _ in range(2):
        result = cli("db", "upgrade", database_url=url)
        assert result.exit_code == 0, result.output
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    assert {"workspaces", "api_tokens", "contacts", "alembic_version"} <= tables
    assert versions == [head_revision(url)]


# -- demo ---------------------------------------------------------------------------------------


async def test_demo_is_created_once(cli: Cli, client: httpx.AsyncClient, tmp_path: Path) -> None:
    token_file = tmp_path / "var" / "demo-token"
    first = await asyncio.to_thread(cli.ok, "demo", "--token-file", str(token_file))
    tokens = TOKEN.findall(first.stdout)
    assert tokens, first.stdout
    token = tokens[0]
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "/api/v1/demo" in first.stdout

    second = await asyncio.to_thread(cli.ok, "demo", "--token-file", str(token_file))
    assert TOKEN.findall(second.stdout)[0] == token
    assert [w["subdomain"] for w in await asyncio.to_thread(cli.json, "workspace", "list")] == [
        "demo"
    ]
    assert len(await asyncio.to_thread(cli.json, "token", "list", "demo")) == 1

    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/statuses", "/sources"):
        r = await client.get(f"/api/v1/demo{path}", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["total"] == 1


def test_demo_replaces_a_token_that_no_longer_works(cli: Cli, tmp_path: Path) -> None:
    token_file = tmp_path / "demo-token"
    first = TOKEN.findall(cli.ok("demo", "--token-file", str(token_file)).stdout)[0]
    token_id = cli.json("token", "list", "demo")[0]["id"]
    cli.ok("token", "revoke", "demo", str(token_id))
    second = TOKEN.findall(cli.ok("demo", "--token-file", str(token_file)).stdout)[0]
    assert second != first
    assert token_file.read_text().strip() == second
    assert [t["is_active"] for t in cli.json("token", "list", "demo")] == [0, 1]
    assert len(cli.json("workspace", "list")) == 1
