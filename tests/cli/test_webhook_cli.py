"""``xobito webhook ...`` (docs/api/admin.md) against the test backend's database, delivering to the
real local receiver of ``tests/webhook``.

The commands run ``asyncio.run`` themselves, so they run in a worker thread here while the
test's loop keeps serving the receiver.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook
from typer.testing import CliRunner, Result

from tests.backends import Backend
from tests.factories import Factory
from tests.webhook import conftest as webhook_fixtures
from tests.webhook.conftest import Hooks, Receiver
from xobito.cli.main import app
from xobito.config import get_settings

# The receiver and helpers of tests/webhook, as fixtures of this module too.
receiver_server = webhook_fixtures.receiver_server
receiver = webhook_fixtures.receiver
hooks = webhook_fixtures.hooks
close_dispatcher = webhook_fixtures._close_dispatcher

SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")
EVENT = re.compile(r"evt_[0-9a-f]{32}")


class Cli:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.runner = CliRunner()
        self.env: dict[str, str | None] = {}  # more settings for the commands

    def __call__(self, *args: str) -> Result:
        env = {"XOBITO_DATABASE_URL": self.database_url, "COLUMNS": "200", "XOBITO_ENV": None}
        env.update(self.env)
        get_settings.cache_clear()
        try:
            return self.runner.invoke(app, list(args), env=env)  # type: ignore[arg-type]
        finally:
            get_settings.cache_clear()

    async def ok(self, *args: str) -> str:
        result = await asyncio.to_thread(self, *args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.stdout

    async def fails(self, *args: str) -> str:
        result = await asyncio.to_thread(self, *args)
        assert result.exit_code == 1, (args, result.output)
        return result.output

    async def json(self, *args: str) -> Any:
        return json.loads(await self.ok(*args, "--json"))


@pytest.fixture
def cli(backend: Backend) -> Iterator[Cli]:
    get_settings.cache_clear()
    yield Cli(backend.database_url)
    get_settings.cache_clear()


async def test_add_list_update_remove(
    cli: Cli, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    sub = t.workspace.subdomain
    out = await cli.ok("webhook", "add", sub, receiver.url("/cli"), "-e", "sources.created")
    secret = SECRET.search(out)
    assert secret, out
    (record,) = await cli.json("webhook", "list", sub)
    assert record["url"] == receiver.url("/cli")
    assert record["events"] == ["sources.created"]
    assert record["enabled"] == 1
    assert "secret" not in record
    assert secret.group() not in await cli.ok("webhook", "list", sub)
    (changed,) = await cli.json(
        "webhook", "update", sub, str(record["id"]), "--disabled", "-e", "sources.deleted"
    )
    assert (changed["enabled"], changed["events"]) == (0, ["sources.deleted"])
    assert "Webhook" in await cli.ok("webhook", "remove", sub, str(record["id"]))
    assert await cli.json("webhook", "list", sub) == []


async def test_bad_input_and_unknown_ids_exit_1_with_the_message(
    cli: Cli, factory: Factory
) -> None:
    t = await factory.tenant()
    sub = t.workspace.subdomain
    out = await cli.fails("webhook", "add", sub, "ftp://example.com/x")
    assert "url: The url format is invalid." in out
    out = await cli.fails("webhook", "add", sub, "https://example.com/x", "-e", "nope")
    assert "The selected events.0 is invalid." in out
    for args in (("update", sub, "999", "--enabled"), ("remove", sub, "999"), ("test", sub, "999")):
        assert "Webhook not found" in await cli.fails("webhook", *args)
    assert "Webhook event not found" in await cli.fails("webhook", "redeliver", sub, "evt_x")
    assert "Workspace not found" in await cli.fails("webhook", "list", "nobody")


async def test_internal_urls_are_refused_when_private_urls_are_not_allowed(
    cli: Cli, factory: Factory
) -> None:
    sub = (await factory.tenant()).workspace.subdomain
    cli.env["XOBITO_WEBHOOK_ALLOW_PRIVATE_URLS"] = "false"
    for url in ("http://127.1/x", "http://0x7f000001/x", "http://localhost./x"):
        out = await cli.fails("webhook", "add", sub, url)
        assert "url: The url resolves to an address that is not allowed." in out
    assert await cli.json("webhook", "list", sub) == []


async def test_test_event_logs_redeliver_and_rotation(
    cli: Cli, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    sub = t.workspace.subdomain
    secret = SECRET.search(await cli.ok("webhook", "add", sub, receiver.url("/t")))
    assert secret
    (record,) = await cli.json("webhook", "list", sub)
    eid = str(record["id"])
    queued = EVENT.search(await cli.ok("webhook", "test", sub, eid))
    assert queued
    assert await hooks.deliver() == 1
    (hit,) = receiver.hits
    assert hit.event_id == queued.group()
    assert Webhook(secret.group()).verify(hit.body, hit.headers)["event"] == "webhook.test"

    logs = await cli.json("webhook", "logs", sub, eid)
    assert [(x["event_id"], x["status_code"], x["attempt"]) for x in logs] == [
        (queued.group(), 200, 1)
    ]
    assert "queued 1 deliveries" in await cli.ok("webhook", "redeliver", sub, queued.group())
    assert await hooks.deliver() == 1
    assert [h.event_id for h in receiver.hits] == [queued.group()] * 2
    assert len(await cli.json("webhook", "logs", sub, eid)) == 2

    new = SECRET.search(await cli.ok("webhook", "rotate-secret", sub, eid))
    assert new and new.group() != secret.group()
    await cli.ok("webhook", "test", sub, eid)
    await hooks.deliver()
    last = receiver.hits[-1]
    assert Webhook(new.group()).verify(last.body, last.headers)
    assert Webhook(secret.group()).verify(last.body, last.headers)  # during the overlap


async def test_a_contact_created_by_a_cli_sandbox_message_emits_contacts_created(
    cli: Cli, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    sub = t.workspace.subdomain
    await cli.ok(
        "webhook",
        "add",
        sub,
        receiver.url("/c"),
        "-e",
        "contacts.created",
        "-e",
        "message.received",
    )
    await cli.ok(
        "sandbox",
        "inbound",
        sub,
        "--phone-number",
        "+14155550142",
        "--text",
        "Hi",
        "--profile-name",
        "Lin",
        "--wait",
        "0",
    )
    await hooks.app.state.worker.drain()
    await hooks.deliver()
    events = [h.json["event"] for h in receiver.at("/c")]
    assert events == ["created", "message.received"]
    assert receiver.at("/c")[0].json["data"]["attributes"]["firstname"] == "Lin"


async def test_sandbox_inbound_waits_until_a_worker_stored_it(
    cli: Cli, factory: Factory, hooks: Hooks
) -> None:
    """A send right after ``sandbox inbound`` must find the care window open: the command
    returns once a worker has stored the message (or says none did)."""
    t = await factory.tenant()
    args = ["sandbox", "inbound", t.workspace.subdomain, "--phone-number", "+14155550143"]
    args += ["--text", "Hi"]
    waiting = asyncio.ensure_future(cli.ok(*args, "--wait", "30"))
    while not waiting.done():  # the app's worker runs while the command waits
        await hooks.app.state.worker.drain()
        await asyncio.sleep(0.05)
    assert "stored by the worker: the customer care window is open" in await waiting

    alone = await cli.ok(*args, "--wait", "0.2")  # nobody processes the inbox now
    assert "not stored within 0.2 s" in alone
