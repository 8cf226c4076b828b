"""Every change made with a token, with the admin API, in the dashboard or with the CLI is in
the activity log, written with the change (a refused request leaves no entry)."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.cli.test_cli import Cli
from tests.factories import Factory
from tests.web.conftest import MakeClient, Team
from xobito.models import ActivityEntry


async def entries(session: AsyncSession) -> list[ActivityEntry]:
    await session.rollback()
    rows = await session.execute(select(ActivityEntry).order_by(ActivityEntry.id))
    return list(rows.scalars().all())


async def test_an_api_token_change_is_logged_with_the_token_and_ip(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    status = await factory.status(t)
    source = await factory.source(t)
    before = len(await entries(session))
    body = {"firstname": "Ada", "lastname": "Lovelace", "phone": "+14155552671", "type": "lead"}
    r = await client.post(
        t.url("/contacts"),
        json=body | {"status_id": status.id, "source_id": source.id},
        headers=t.headers,
    )
    assert r.status_code == 201
    [entry] = (await entries(session))[before:]
    assert (entry.actor_type, entry.actor_id) == ("token", t.token_id)
    assert entry.actor_name == f"test ({t.token[:10]}…)"
    assert entry.workspace_id == t.workspace.id
    assert entry.action == "contact.created"
    assert (entry.subject_type, entry.subject_id) == ("contact", str(r.json()["data"]["id"]))
    assert entry.summary == "Created contact Ada Lovelace (+14155552671)"
    assert entry.ip == "127.0.0.1"


async def test_a_refused_change_and_reads_leave_no_entry(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    before = len(await entries(session))
    assert (await client.post(t.url("/contacts"), json={}, headers=t.headers)).status_code == 422
    assert (await client.get(t.url("/contacts"), headers=t.headers)).status_code == 200
    assert (await client.delete(t.url("/statuses/99"), headers=t.headers)).status_code == 404
    assert len(await entries(session)) == before


async def test_an_admin_api_change_is_logged_as_the_operator(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    admin_headers: dict[str, str],
) -> None:
    t = await factory.tenant()
    before = len(await entries(session))
    r = await client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/tokens",
        json={"name": "CRM sync", "abilities": ["contacts.read"]},
        headers=admin_headers,
    )
    assert r.status_code == 201
    [entry] = (await entries(session))[before:]
    assert (entry.actor_type, entry.actor_name) == ("admin", "Operator (admin API)")
    assert (entry.action, entry.summary) == ("token.created", "Created API token CRM sync")
    assert entry.workspace_id == t.workspace.id


async def test_a_route_no_service_describes_is_logged_by_its_name(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    admin_headers: dict[str, str],
) -> None:
    t = await factory.tenant()
    before = len(await entries(session))
    r = await client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound",
        json={"phone_number": "+14155552671", "text": "hi"},
        headers=admin_headers,
    )
    assert r.status_code < 300, r.text
    [entry] = (await entries(session))[before:]
    assert entry.action == "admin.sandbox.inbound"
    assert entry.summary == f"POST /api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound"
    assert entry.workspace_id == t.workspace.id


async def test_sends_are_not_activity_entries(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    """Messages have their own record; the send path stays one statement."""
    t = await factory.tenant(enforce_care_window=False)
    before = len(await entries(session))
    r = await client.post(
        t.url("/messages/send"),
        json={"phone_number": "+14155552671", "message_body": "Hello"},
        headers=t.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["contact_created"] is True
    assert len(await entries(session)) == before


async def test_a_dashboard_change_is_logged_as_the_user(
    team: Team, session: AsyncSession, browser: MakeClient
) -> None:
    client = await browser()
    await client.sign_in(team.admin.email)
    before = len(await entries(session))
    r = await client.post("/app/account/profile", {"name": "Adam A."})
    assert r.status_code == 303
    [entry] = (await entries(session))[before:]
    assert (entry.actor_type, entry.actor_id) == ("user", team.admin.id)
    assert entry.actor_name == "Adam Admin <admin@acme.example.com>"  # who they were then
    assert entry.action == "user.renamed"
    assert entry.summary == "admin@acme.example.com changed their name from Adam Admin"
    assert entry.workspace_id == team.a.workspace.id
    assert entry.ip == "127.0.0.1"


async def test_signing_in_is_logged_in_every_workspace_of_the_user(
    team: Team, factory: Factory, session: AsyncSession, browser: MakeClient
) -> None:
    await factory.user(team.b.workspace, "agent", team.admin.email)  # now in both
    before = len(await entries(session))
    client = await browser()
    await client.sign_in(team.admin.email)
    new = (await entries(session))[before:]
    assert sorted((e.workspace_id, e.action) for e in new) == sorted(
        [(team.a.workspace.id, "user.signed_in"), (team.b.workspace.id, "user.signed_in")]
    )


async def test_a_cli_change_is_logged_as_the_cli(cli: Cli, session: AsyncSession) -> None:
    await asyncio.to_thread(cli.ok, "workspace", "create", "clitest", "--name", "CLI test")
    rows = await entries(session)
    assert [(e.actor_type, e.action) for e in rows][:1] == [("cli", "workspace.created")]
    assert rows[0].actor_name.startswith("CLI (")
