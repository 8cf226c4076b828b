"""Settings → WhatsApp: the connection (secrets write-only, empty keeps the stored one), the
API's messages beside the fields, and "Check connection" (the doctor against the fake Graph
API) in plain words; owner and admin only; tenancy."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession

from tests.connection.conftest import (
    Doctor,
    cloud,
    doctor,
    fake_graph,
    fake_graph_server,
    messaging,
)
from tests.factories import Factory
from tests.message.conftest import ACCESS_TOKEN, APP_SECRET
from tests.web.conftest import MakeClient, Team, WebClient, field, field_errors, main_text, soup
from xobito.connection.repository import ConnectionRepository

__all__ = ["cloud", "doctor", "fake_graph", "fake_graph_server", "messaging"]

SignedIn = Any


def checks(page: BeautifulSoup) -> dict[str, str]:
    """Each finding's heading ("Problem Webhooks fail ...") to its text."""
    out = {}
    for item in page.select("#doctor li"):
        heading = item.find("h3")
        assert heading is not None
        out[heading.get_text(" ", strip=True)] = item.get_text(" ", strip=True)
    return out


async def owner_of(factory: Factory, browser: MakeClient, workspace: Any) -> WebClient:
    user = await factory.user(workspace, "owner")
    client = await browser()
    await client.sign_in(user.email)
    return client


async def test_the_doctor_reports_a_wrong_app_secret_in_plain_words(
    doctor: Doctor, factory: Factory, browser: MakeClient
) -> None:
    ct = await doctor.healthy()
    owner = await owner_of(factory, browser, ct.tenant.workspace)
    for _ in range(2):  # Meta signs with another secret than the one stored
        assert await doctor.webhook(ct.number, "the-secret-meta-really-uses") == 401
    base = f"/app/{ct.tenant.workspace.subdomain}/settings/whatsapp"
    page = soup(await owner.get(base))
    assert (
        "Stored" in main_text(page)
        and APP_SECRET not in str(page)
        and ACCESS_TOKEN not in str(page)
    )
    # The button's htmx request gets only the report region.
    r = await owner.get(f"{base}/check", htmx=True, headers={"HX-Target": "doctor"})
    assert r.status_code == 200 and "<html" not in r.text
    found = checks(BeautifulSoup(f'<div id="doctor">{r.text}</div>', "html.parser"))
    problem = found["Problem Webhooks fail the signature check: the app secret is wrong"]
    assert problem.startswith("Problem Webhooks fail the signature check")
    assert "2 webhooks from Meta" in problem
    assert "What to do:" in problem and "App Secret" in problem
    assert any(h.startswith("Working Access token") for h in found)
    assert "1 problem" in r.text
    # Without JavaScript the link shows the page with the report, and Meta's display number.
    full = soup(await owner.get(f"{base}/check"))
    assert "Problem Webhooks fail the signature check: the app secret is wrong" in checks(full)
    assert "Shown after" not in main_text(full)


async def test_connect_and_keep_the_stored_secrets(
    signed_in: SignedIn, team: Team, session: AsyncSession
) -> None:
    owner: WebClient = await signed_in("owner")
    base = "/app/acme/settings/whatsapp"
    form = soup(await owner.get(base))
    assert field(form, "Access token").get("type") == "password"
    body = {
        "provider": "cloud",
        "waba_id": "419561257910001",
        "phone_number_ids": "106540352240001\n106540352250001",
        "access_token": "EAAG-secret",
        "app_secret": "shh",
    }
    r = await owner.post(base, body)
    assert r.status_code == 303
    page = await owner.get(base)
    assert "The connection is saved." in page.text
    assert "EAAG-secret" not in page.text and "shh" not in page.text
    # A second save with the secrets left empty changes the numbers and keeps them.
    r = await owner.post(
        base, {**body, "access_token": "", "app_secret": "", "phone_number_ids": "106540352240001"}
    )
    assert r.status_code == 303
    await session.rollback()
    conn = await ConnectionRepository(session).for_workspace(team.a.workspace.id)
    assert conn is not None
    assert (conn.phone_number_ids, conn.access_token, conn.app_secret) == (
        ["106540352240001"],
        "EAAG-secret",
        "shh",
    )


async def test_validation_messages_are_the_apis(signed_in: SignedIn, team: Team) -> None:
    admin: WebClient = await signed_in("admin")
    base = "/app/acme/settings/whatsapp"
    r = await admin.post(base, {"provider": "cloud", "waba_id": "12ab", "access_token": "typed"})
    assert r.status_code == 422
    page = soup(r)
    assert field_errors(page, "WABA id") == ["The waba id format is invalid."]
    assert field_errors(page, "Phone number ids") == [
        "The phone number ids field is required when provider is cloud."
    ]
    assert field_errors(page, "App secret") == [
        "The app secret field is required when provider is cloud."
    ]
    assert "typed" not in r.text  # secrets are never echoed back
    r = await admin.post(
        base, {"provider": "nope"}, htmx=True, headers={"HX-Target": "connection-form"}
    )
    assert r.status_code == 422 and r.text.lstrip().startswith("<form")
    assert field_errors(soup(r), "Provider") == ["The selected provider is invalid."]


async def test_agents_get_the_403_page_and_other_workspaces_404(
    signed_in: SignedIn, team: Team
) -> None:
    agent: WebClient = await signed_in("agent")
    for r in (
        await agent.get("/app/acme/settings/whatsapp"),
        await agent.get("/app/acme/settings/whatsapp/check"),
        await agent.post("/app/acme/settings/whatsapp", {"provider": "sandbox"}),
    ):
        assert r.status_code == 403
        assert "This page needs the admin role or higher." in r.text
    owner: WebClient = await signed_in("owner")
    for r in (
        await owner.get("/app/globex/settings/whatsapp"),
        await owner.get("/app/globex/settings/whatsapp/check"),
        await owner.post("/app/globex/settings/whatsapp", {"provider": "sandbox"}),
    ):
        assert r.status_code == 404
