"""The SDK's campaign methods and ``xobito campaign``, against the real application."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from xobito_client import AsyncClient, NotFoundError, ValidationError

from tests.backends import Backend
from tests.campaign.conftest import Campaigns
from tests.cli.test_cli import Cli
from xobito.config import get_settings


@pytest.fixture
def sync_cli(backend: Backend) -> Iterator[Cli]:
    get_settings.cache_clear()
    yield Cli(backend.database_url)
    get_settings.cache_clear()


class Threaded:
    """``Cli`` from an async test: each command in a thread, with its own event loop."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli

    async def __call__(self, *args: str) -> Any:
        return await asyncio.to_thread(self.cli, *args)

    async def ok(self, *args: str) -> Any:
        return await asyncio.to_thread(self.cli.ok, *args)

    async def json(self, *args: str) -> Any:
        return await asyncio.to_thread(self.cli.json, *args)


async def test_sdk_creates_follows_and_reports_a_campaign(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 3)
    transport = httpx.ASGITransport(app=campaigns.app, raise_app_exceptions=False)
    async with AsyncClient("http://testserver", ct.tenant.workspace.subdomain, ct.tenant.token,
                           transport=transport) as client:
        with pytest.raises(ValidationError) as refused:
            await client.campaigns.create({"name": "No template"})
        assert "template_name" in refused.value.errors
        campaign = await client.campaigns.create({
            "name": "Launch",
            "template_name": "promo",
            "template_language": "en_US",
            "variables": {"field_1": {"type": "contact", "field": "firstname"},
                          "field_2": "GO"},
            "audience": {"all": True},
        })
        assert campaign.state == "scheduled" and campaign.rate_per_second == 1000
        await campaigns.engine().drain()
        done = await client.campaigns.get(campaign.id)
        assert done.state == "completed" and done.counts.sent == 3
        listed = await client.campaigns.list(state="completed")
        assert [c.id for c in listed.data] == [campaign.id]
        recipients = [r async for r in client.campaigns.iter_recipients(campaign.id, per_page=2)]
        assert sorted(r.phone for r in recipients) == sorted(p["phone"] for p in people)
        assert all(r.message_id and r.state == "sent" for r in recipients)
        report = await client.campaigns.report(campaign.id)
        assert len(list(csv.DictReader(io.StringIO(report)))) == 3
        with pytest.raises(NotFoundError):
            await client.campaigns.get(campaign.id + 1000)
        # An uploaded CSV audience.
        status = await campaigns.factory.status(ct.tenant)
        source = await campaigns.factory.source(ct.tenant)
        by_csv = await client.campaigns.create(
            {"name": "CSV", "template_name": "promo", "template_language": "en_US",
             "variables": {"field_1": {"type": "csv", "column": "name"}, "field_2": "X"},
             "csv_status_id": status.id, "csv_source_id": source.id},
            csv_file=("list.csv", f"phone,name\n{people[0]['phone']},Zed\n".encode()),
        )
        assert by_csv.csv is not None and by_csv.csv["accepted"] == 1
        paused = await client.campaigns.pause(by_csv.id)
        assert paused.state == "paused"
        cancelled = await client.campaigns.cancel(by_csv.id)
        assert cancelled.state == "cancelled"


async def test_cli_creates_lists_shows_and_reports(campaigns: Campaigns, sync_cli: Cli) -> None:
    cli = Threaded(sync_cli)  # the commands run their own event loop
    ct = await campaigns.tenant()
    await campaigns.contacts(ct, 2)
    sub = ct.tenant.workspace.subdomain
    created = await cli.json(
        "campaign", "create", sub, "--name", "From CLI", "--template", "promo",
        "--var", "field_1=contact:firstname:friend", "--var", "field_2=CODE", "--all",
    )
    assert created["state"] == "scheduled"
    assert created["variables"]["field_1"] == {
        "type": "contact", "field": "firstname", "fallback": "friend"
    }
    await campaigns.engine().drain()
    listed = await cli.json("campaign", "list", sub)
    assert [c["id"] for c in listed] == [created["id"]]
    shown = await cli.json("campaign", "show", sub, str(created["id"]))
    assert shown["state"] == "completed" and shown["counts"]["sent"] == 2
    table = (await cli.ok("campaign", "show", sub, str(created["id"]))).stdout
    assert "completed" in table
    report = (await cli.ok("campaign", "report", sub, str(created["id"]))).stdout
    rows = list(csv.DictReader(io.StringIO(report)))
    assert len(rows) == 2 and {r["state"] for r in rows} == {"sent"}
    result = await cli("campaign", "pause", sub, str(created["id"]))
    assert result.exit_code == 1
    assert "A completed campaign cannot be paused." in result.output
    result = await cli("campaign", "create", sub, "--name", "Bad", "--template", "missing", "--all")
    assert result.exit_code == 1
    assert "template_name: The selected template is not available or not approved." in (
        result.output
    )
