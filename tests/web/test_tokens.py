"""Settings → API tokens: create (plaintext once), list, revoke; the admin API's rules and
messages; owner and admin only; another workspace's token is not found."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from tests.web.conftest import Team, WebClient, field, field_errors, main_text, soup, texts
from xobito.models import ActivityEntry, ApiToken

SignedIn = Any
PAGE = "/app/acme/settings/tokens"


async def test_admin_creates_a_token_that_works_once_shown(
    signed_in: SignedIn, team: Team, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin: WebClient = await signed_in("admin")
    page = soup(await admin.get(PAGE))
    assert field(page, "Token name").get("name") == "name"
    assert field(page, "contacts.read").get("name") == "abilities[]"
    r = await admin.post(
        PAGE,
        {
            "name": "Shop backend",
            "abilities[]": ["contacts.read", "messages.send"],
            "rate_limit_max": "30",
            "monthly_quota": "1000",
            "expires_on": "2099-12-31",
        },
    )
    assert r.status_code == 201
    shown = soup(r)
    plaintext = str(field(shown, "New API token").get("value"))
    assert "shown only this once" in main_text(shown)
    assert shown.find("button", attrs={"data-copy": "#new-token"}) is not None
    # It works against the API, with exactly the chosen abilities.
    ok = await client.get("/api/v1/acme/contacts", headers={"Authorization": f"Bearer {plaintext}"})
    assert ok.status_code == 200
    denied = await client.get(
        "/api/v1/acme/statuses", headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert denied.status_code == 403
    await session.rollback()
    token = (
        await session.execute(select(ApiToken).where(ApiToken.name == "Shop backend"))
    ).scalar_one()
    assert (token.abilities, token.rate_limit_max, token.monthly_quota) == (
        ["contacts.read", "messages.send"],
        30,
        1000,
    )
    assert token.expires_at is not None and token.expires_at.year == 2099
    assert token.workspace_id == team.a.workspace.id
    # The list shows the prefix and abilities, never the plaintext again.
    listing = await admin.get(PAGE)
    assert plaintext not in listing.text
    assert token.token_prefix in listing.text
    rows = texts(soup(listing), "tbody tr")
    assert any("Shop backend" in row and "messages.send" in row for row in rows)
    actions = (await session.execute(select(ActivityEntry.action, ActivityEntry.actor_name))).all()
    assert ("token.created", "Adam Admin <admin@acme.example.com>") in actions


async def test_validation_messages_are_the_apis_beside_the_fields(signed_in: SignedIn) -> None:
    owner: WebClient = await signed_in("owner")
    r = await owner.post(
        PAGE,
        {"name": "", "rate_limit_max": "0", "monthly_quota": "many", "expires_on": "2001-01-01"},
    )
    assert r.status_code == 422
    page = soup(r)
    assert field_errors(page, "Token name") == ["The name field is required."]
    assert field_errors(page, "Rate limit (requests)") == ["The rate limit max must be at least 1."]
    assert field_errors(page, "Monthly quota (requests)") == [
        "The monthly quota must be an integer."
    ]
    assert field_errors(page, "Expires on") == ["The expires at must be a date after now."]
    assert "The abilities field is required." in r.text
    assert field(page, "Monthly quota (requests)").get("value") == "many"
    # Through htmx only the form's section comes back.
    r = await owner.post(
        PAGE,
        {"name": "x", "abilities[]": ["contacts.read", "nope.nope"]},
        htmx=True,
        headers={"HX-Target": "token-create"},
    )
    assert r.status_code == 422
    assert r.text.lstrip().startswith("<section") and "<html" not in r.text
    assert "The selected abilities.1 is invalid." in r.text


async def test_htmx_create_answers_the_secret_and_the_list_out_of_band(signed_in: SignedIn) -> None:
    owner: WebClient = await signed_in("owner")
    r = await owner.post(
        PAGE,
        {"name": "CI", "abilities[]": ["contacts.read"]},
        htmx=True,
        headers={"HX-Target": "token-create"},
    )
    assert r.status_code == 201
    page = soup(r)
    assert field(page, "New API token").get("value")
    oob = page.find(id="tokens-table")
    assert oob is not None and oob.get("hx-swap-oob") == "true"
    assert "CI" in oob.get_text()


async def test_revoke_stops_the_token_at_once(
    signed_in: SignedIn, team: Team, client: httpx.AsyncClient
) -> None:
    headers = team.a.headers
    assert (await client.get("/api/v1/acme/contacts", headers=headers)).status_code == 200
    owner: WebClient = await signed_in("owner")
    r = await owner.post(f"{PAGE}/{team.a.token_id}/revoke")
    assert (r.status_code, r.headers["location"]) == (303, PAGE)
    listing = await owner.get(PAGE)
    assert "Token test revoked." in listing.text
    assert "Revoked" in texts(soup(listing), "tbody tr")[0]
    assert (await client.get("/api/v1/acme/contacts", headers=headers)).status_code == 401


async def test_the_list_is_paginated(signed_in: SignedIn, team: Team, factory: Factory) -> None:
    for n in range(26):
        await factory.token(team.a.workspace, ["contacts.read"], name=f"t{n:02d}")
    owner: WebClient = await signed_in("owner")
    first = soup(await owner.get(PAGE))
    assert len(first.select("tbody tr")) == 25
    assert "1\u201325 of 27" in main_text(first)
    second = soup(await owner.get(f"{PAGE}?page=2"))
    assert len(second.select("tbody tr")) == 2


async def test_agents_get_the_403_page(signed_in: SignedIn, team: Team) -> None:
    agent: WebClient = await signed_in("agent")
    for r in (
        await agent.get(PAGE),
        await agent.post(PAGE, {"name": "x", "abilities[]": ["contacts.read"]}),
        await agent.post(f"{PAGE}/{team.a.token_id}/revoke"),
    ):
        assert r.status_code == 403
        assert "This page needs the admin role or higher." in r.text
    assert "API tokens" not in (await agent.get("/app/acme/contacts")).text


async def test_another_workspaces_token_is_not_found(
    signed_in: SignedIn, team: Team, session: AsyncSession
) -> None:
    owner: WebClient = await signed_in("owner")
    r = await owner.post(f"{PAGE}/{team.b.token_id}/revoke")
    assert r.status_code == 404
    assert (await owner.get("/app/globex/settings/tokens")).status_code == 404
    await session.rollback()
    theirs = await session.get(ApiToken, team.b.token_id)
    assert theirs is not None and theirs.is_active
    listing = await owner.get(PAGE)
    assert len(soup(listing).select("tbody tr")) == 1  # only acme's own
