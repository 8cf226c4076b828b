"""The ``xobito`` command's help and output: every command has ``--json``, help screens carry
no ``<bool>`` noise or raw reStructuredText, an invalid ability names the valid ones."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from tests.cli.test_cli import Cli
from xobito.auth.abilities import ABILITIES
from xobito.cli.main import app

# Commands whose output is not a report: servers, the migration, and CSV data.
NO_JSON = {"serve", "worker", "db upgrade", "contact export", "campaign report"}


def leaves(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):  # a group (typer's own click)
            found += leaves(command, path + " ")
        else:
            found.append((path, command))
    return found


COMMANDS = leaves(typer.main.get_group(app))


def test_the_tree_is_all_there() -> None:
    names = {path for path, _ in COMMANDS}
    assert {"token create", "webhook forward logs", "sandbox inbound", "demo"} <= names
    assert len(names) > 30


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_report_command_has_json(path: str, command: Any) -> None:
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert ("--json" in options) == (path not in NO_JSON)


@pytest.mark.parametrize("path", ["", *(p for p, _ in COMMANDS)])
def test_help_screens_are_clean(path: str) -> None:
    result = CliRunner().invoke(
        app, [*path.split(), "--help"], prog_name="xobito", env={"COLUMNS": "100"}
    )
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "``" not in result.output
    assert "Usage: xobito" in result.output


def test_token_create_help_lists_the_abilities() -> None:
    text = CliRunner().invoke(app, ["token", "create", "--help"], env={"COLUMNS": "200"}).output
    for ability in ABILITIES:
        assert ability in text


def test_an_invalid_ability_names_the_valid_ones(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    result = cli("token", "create", "acme", "--name", "x", "-a", "contacts.list")
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.startswith("error: unknown ability contacts.list; the abilities are: ")
    assert all(a in line for a in ABILITIES)
    assert cli.json("token", "list", "acme") == []


def test_json_of_commands_that_print_text(cli: Cli) -> None:
    cli.ok("workspace", "create", "acme", "--name", "Acme")
    [made] = cli.json("token", "create", "acme", "--name", "ci")
    assert made["token"].startswith("apitk_") and made["name"] == "ci"
    revoked = cli.json("token", "revoke", "acme", str(made["id"]))
    assert revoked["is_active"] == 0
    hook = cli.json("webhook", "add", "acme", "https://example.com/hook")
    assert hook["secret"].startswith("whsec_")
    assert cli.json("webhook", "remove", "acme", str(hook["id"])) == {
        "id": hook["id"],
        "removed": True,
    }
    assert cli.json("template", "sync", "acme") == {"total": 2, "created": 2, "updated": 0}
