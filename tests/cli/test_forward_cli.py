"""``xobito webhook forward ...``: Meta webhook forwards from the command line, delivered to
the real local receiver of ``tests/webhook``."""

from __future__ import annotations

from standardwebhooks import Webhook

from tests.cli.test_webhook_cli import EVENT, SECRET, Cli, cli
from tests.factories import Factory
from tests.webhook import conftest as webhook_fixtures
from tests.webhook.conftest import Hooks, Receiver

__all__ = ["cli"]
receiver_server = webhook_fixtures.receiver_server
receiver = webhook_fixtures.receiver
hooks = webhook_fixtures.hooks
close_dispatcher = webhook_fixtures._close_dispatcher


async def test_add_list_update_test_logs_remove(
    cli: Cli, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    sub = t.workspace.subdomain
    out = await cli.ok("webhook", "forward", "add", sub, receiver.url("/f"), "-f", "messages")
    secret = SECRET.search(out)
    assert secret, out
    (record,) = await cli.json("webhook", "forward", "list", sub)
    assert (record["url"], record["fields"], record["enabled"]) == (
        receiver.url("/f"),
        ["messages"],
        1,
    )
    assert "secret" not in record
    assert await cli.json("webhook", "list", sub) == []  # not one of Xobito's endpoints
    fid = str(record["id"])
    (changed,) = await cli.json(
        "webhook", "forward", "update", sub, fid, "-f", "account_update", "-f", "messages"
    )
    assert changed["fields"] == ["account_update", "messages"]

    queued = EVENT.search(await cli.ok("webhook", "forward", "test", sub, fid))
    assert queued
    assert await hooks.deliver() == 1
    (hit,) = receiver.hits
    assert hit.event_id == queued.group()
    Webhook(secret.group()).verify(hit.body, hit.headers)
    logs = await cli.json("webhook", "forward", "logs", sub, fid)
    assert [(x["event_id"], x["status_code"]) for x in logs] == [(queued.group(), 200)]

    new = SECRET.search(await cli.ok("webhook", "forward", "rotate-secret", sub, fid))
    assert new and new.group() != secret.group()
    assert "removed" in await cli.ok("webhook", "forward", "remove", sub, fid)
    assert await cli.json("webhook", "forward", "list", sub) == []


async def test_bad_input_and_unknown_ids_exit_1(cli: Cli, factory: Factory) -> None:
    t = await factory.tenant()
    sub = t.workspace.subdomain
    out = await cli.fails("webhook", "forward", "add", sub, "https://example.com/x", "-f", "nope")
    assert "The selected fields.0 is invalid." in out
    for args in (("update", sub, "999", "--enabled"), ("remove", sub, "999"), ("test", sub, "9")):
        assert "Meta forward not found" in await cli.fails("webhook", "forward", *args)
