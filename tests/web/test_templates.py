"""The templates pages: the list (name, language, category, status, quality), a preview with
sample values, "Sync from Meta" against the sandbox and the fake Graph API; roles, tenancy."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.message.conftest import (
    ACCESS_TOKEN,
    Messaging,
    cloud,
    fake_graph,
    fake_graph_server,
    messaging,
)
from tests.web.conftest import Team, WebClient, main_text, soup, texts
from xobito.models import Template
from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.meta_templates import make_template

__all__ = ["cloud", "fake_graph", "fake_graph_server", "messaging"]  # fixtures used here

SignedIn = Any


def table(response: httpx.Response) -> list[list[str]]:
    return [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in soup(response).select("tbody tr")
    ]


async def connect_to_fake_meta(client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    waba = "419561257915477"
    body = {
        "provider": "cloud",
        "waba_id": waba,
        "phone_number_ids": ["106540352242922"],
        "access_token": ACCESS_TOKEN,
        "app_secret": "secret",
        "verify_token": "verify",
    }
    r = await client.put("/api/admin/workspaces/acme/whatsapp", json=body, headers=admin)
    assert r.status_code == 200, r.text
    return waba


async def test_owner_syncs_from_meta_and_sees_the_list(
    signed_in: SignedIn,
    team: Team,
    cloud: FakeGraphServer,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    waba = await connect_to_fake_meta(client, admin_headers)
    owner: WebClient = await signed_in("owner")
    page = await owner.get("/app/acme/templates")
    assert "No templates yet" in main_text(soup(page))
    r = await owner.post("/app/acme/templates/sync")
    assert (r.status_code, r.headers["location"]) == (303, "/app/acme/templates")
    assert {req.path for req in cloud.requests_to("message_templates")} == {
        f"/v23.0/{waba}/message_templates"
    }
    page = await owner.get("/app/acme/templates")
    assert "Synced 2 templates from Meta: 2 new, 0 updated." in page.text
    rows = table(page)
    assert [r[:5] for r in rows] == [
        ["hello_world Welcome and congratulations!! This message demonstrates your...", "en_US",
         "Utility", "Approved", "High"],
        ["order_update Hello {{1}}, your order {{2}} is confirmed.", "en_US", "Marketing",
         "Approved", "Medium"],
    ]  # fmt: skip
    # A second sync updates in place; a status change made at Meta shows.
    cloud.templates[1]["status"] = "PAUSED"
    await owner.post("/app/acme/templates/sync")
    page = await owner.get("/app/acme/templates")
    assert "Synced 2 templates from Meta: 0 new, 2 updated." in page.text
    assert table(page)[1][3] == "Paused"


async def test_preview_renders_header_body_footer_and_buttons_with_samples(
    signed_in: SignedIn,
    team: Team,
    cloud: FakeGraphServer,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    session: AsyncSession,
) -> None:
    await connect_to_fake_meta(client, admin_headers)
    owner: WebClient = await signed_in("owner")
    await owner.post("/app/acme/templates/sync")
    order = (
        await session.execute(select(Template).where(Template.template_name == "order_update"))
    ).scalar_one()
    agent: WebClient = await signed_in("agent")
    r = await agent.get(f"/app/acme/templates/{order.id}")
    assert r.status_code == 200
    page = soup(r)
    bubble = page.select_one("[role=figure] .wa-bubble")
    assert bubble is not None
    assert bubble.select_one(".wa-media").get_text(strip=True) == "Image"  # type: ignore[union-attr]
    assert bubble.select_one(".wa-body").get_text() == (  # type: ignore[union-attr]
        "Hello Jane, your order #1234 is confirmed."  # Meta's examples
    )
    assert texts(bubble, "mark") == ["Jane", "#1234"]
    assert bubble.select_one(".wa-footer").get_text() == "Reply STOP to opt out"  # type: ignore[union-attr]
    assert [b.contents[0].get_text(strip=True) for b in page.select(".wa-button")] == [
        "Track order",
        "Talk to us",
    ]
    urls = [u.get_text() for u in page.select(".wa-button .cell-sub")]
    assert urls == ["https://shop.example.com/track/1234"]
    # Own sample values, as the form sends them (htmx gets only the preview).
    r = await agent.get(
        f"/app/acme/templates/{order.id}?body_1=Zoe&button_0_1=ZX9",
        htmx=True,
        headers={"HX-Target": "template-preview"},
    )
    assert "<html" not in r.text
    fragment = soup(r)
    assert fragment.select_one(".wa-body").get_text() == (  # type: ignore[union-attr]
        "Hello Zoe, your order #1234 is confirmed."
    )
    assert "https://shop.example.com/track/ZX9" in fragment.get_text()


async def test_markup_in_a_template_is_text(
    signed_in: SignedIn, team: Team, messaging: Messaging
) -> None:
    evil = make_template("evil", body="<script>alert(1)</script> {{1}}", body_examples=["<b>x"])
    t = await messaging.template(team.a, "evil", body=evil["components"][0]["text"])
    client: WebClient = await signed_in("agent")
    r = await client.get(f"/app/acme/templates/{t.id}?body_1=<img src=x onerror=alert(1)>")
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


async def test_meta_refusing_the_sync_is_shown_and_changes_nothing(
    signed_in: SignedIn,
    team: Team,
    cloud: FakeGraphServer,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    session: AsyncSession,
) -> None:
    await connect_to_fake_meta(client, admin_headers)
    cloud.fail_next(5, code=190, status=401, endpoint="message_templates")
    owner: WebClient = await signed_in("admin")
    r = await owner.post("/app/acme/templates/sync")
    assert r.status_code == 303
    page = await owner.get("/app/acme/templates")
    toast = texts(soup(page), ".toast-error")
    assert toast and toast[0].startswith("Failed to sync templates:")
    assert (await session.execute(select(Template))).first() is None


async def test_sandbox_workspace_syncs_its_sample_templates(
    signed_in: SignedIn, team: Team
) -> None:
    owner: WebClient = await signed_in("owner")
    await owner.post("/app/acme/templates/sync")
    page = await owner.get("/app/acme/templates")
    assert [r[1:4] for r in table(page)] == [
        ["en_US", "Utility", "Approved"],
        ["en_US", "Utility", "Approved"],
    ]


async def test_agents_read_but_do_not_sync_and_other_workspaces_are_404(
    signed_in: SignedIn, team: Team, messaging: Messaging, app: FastAPI
) -> None:
    theirs = await messaging.template(team.b, "theirs")
    ours = await messaging.template(team.a, "ours")
    agent: WebClient = await signed_in("agent")
    page = await agent.get("/app/acme/templates")
    assert [r[0].split()[0] for r in table(page)] == ["ours"]
    assert "Sync from Meta" not in page.text
    r = await agent.post("/app/acme/templates/sync")
    assert r.status_code == 403 and "This page needs the admin role or higher." in r.text
    assert (await agent.get(f"/app/acme/templates/{ours.id}")).status_code == 200
    assert (await agent.get(f"/app/acme/templates/{theirs.id}")).status_code == 404
    assert (await agent.get("/app/acme/templates/99999999")).status_code == 404
