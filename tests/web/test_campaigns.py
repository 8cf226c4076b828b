"""Campaign pages: the list, the wizard (template, variables with a live preview, audience
with its count and exclusions, schedule, rate; the service's messages beside the fields),
and a campaign's page (progress, counters, actions, failures by code, recipients, report);
agents read only; another workspace's campaign is never found."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.factories import Factory, Tenant
from tests.web.conftest import Team, WebClient, field, field_errors, main_text, soup, texts
from xobito.campaign import estimate
from xobito.campaign.engine import CampaignEngine
from xobito.campaign.pacing import MemoryPacer
from xobito.config import Settings
from xobito.models import Campaign, CampaignRecipient, Contact, Template
from xobito.template.schemas import from_meta
from xobito.testing.meta_templates import make_template
from xobito.whatsapp.sandbox import SandboxProvider

SignedIn = Any
LIST = "/app/acme/campaigns"
NEW = "/app/acme/campaigns/new"
PREVIEW = "/app/acme/campaigns/new/preview"


async def add_template(app: FastAPI, tenant: Tenant, name: str, **meta: Any) -> Template:
    async with app.state.sessionmaker() as s:
        row = Template(workspace_id=tenant.workspace.id, **from_meta(make_template(name, **meta)))
        s.add(row)
        await s.commit()
        await s.refresh(row)
        return row


@pytest.fixture
async def engine(app: FastAPI, settings: Settings) -> AsyncIterator[CampaignEngine]:
    """A worker's campaign engine with the sandbox provider (the app's runs no worker)."""
    made = CampaignEngine(
        app.state.sessionmaker, {"sandbox": SandboxProvider()}, settings,
        pacer=MemoryPacer(), poll_seconds=0.05,
    )  # fmt: skip
    yield made
    await made.close()


@pytest.fixture
async def promo(app: FastAPI, team: Team) -> Template:
    return await add_template(app, team.a, "promo", body="Hi {{1}}, use code {{2}} at {{3}}.")


def form(template: Template, /, **changes: Any) -> dict[str, Any]:
    """The wizard's fields as a person fills them: first name (fallback "friend"), a code
    for everyone, the company (fallback "our shop"), every contact, now."""
    values: dict[str, Any] = {
        "name": "Spring sale",
        "template": str(template.id),
        "var_field_1_kind": "contact",
        "var_field_1_field": "firstname",
        "var_field_1_fallback": "friend",
        "var_field_2_kind": "constant",
        "var_field_2_value": "SPRING",
        "var_field_3_kind": "contact",
        "var_field_3_field": "company",
        "var_field_3_fallback": "our shop",
        "audience_all": "1",
        "when": "now",
        "timezone": "UTC",
        "rate_per_second": "",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


async def create(client: WebClient, template: Template, /, **changes: Any) -> int:
    r = await client.post(LIST, form(template, **changes))
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


async def test_the_nav_links_campaigns_for_every_role_and_the_list_shows_state_and_counts(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template, engine: CampaignEngine
) -> None:
    await factory.contact(team.a, firstname="Ann")
    await factory.contact(team.a, firstname="Bob")
    admin = await signed_in("admin")
    campaign_id = await create(admin, promo)
    await engine.drain()
    for role in ("agent", "admin", "owner"):
        client = await signed_in(role)
        page = soup(await client.get("/app/acme/contacts"))
        link = page.find("a", string="Campaigns")
        assert link is not None and link["href"] == LIST
        listing = soup(await client.get(LIST))
        row = next(tr for tr in listing.select("tbody tr") if "Spring sale" in tr.get_text())
        cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
        assert cells[1] == "Completed" and cells[2] == "2"  # state, recipients
        assert cells[3] == "2"  # sent
        assert listing.find("a", string="Spring sale")["href"] == f"{LIST}/{campaign_id}"
        new_button = listing.find("a", string="New campaign")
        assert (new_button is not None) == (role != "agent")
    filtered = soup(await admin.get(LIST, params={"state": "running"}))
    assert "No running campaigns" in main_text(filtered)


async def test_the_wizard_offers_approved_templates_and_previews_a_sample_recipient(
    signed_in: SignedIn, team: Team, factory: Factory, app: FastAPI, promo: Template
) -> None:
    await add_template(app, team.a, "waiting", status="PENDING")
    await add_template(app, team.b, "theirs")
    await factory.contact(team.a, firstname="Ann", lastname="Lee", company="Acme Bikes")
    await factory.contact(team.a, firstname="Opal")  # no company: its fallback is used
    nobody = await factory.contact(team.a, firstname="Otto")
    async with app.state.sessionmaker() as s:
        await s.execute(update(Contact).where(Contact.id == nobody["id"]).values(
            is_opted_out=True))
        await s.commit()
    admin = await signed_in("admin")
    page = soup(await admin.get(NEW))
    options = texts(page, "#f-template option")
    assert options == ["Choose a template", "promo (en_US)"]
    numbers = texts(page, "#f-from_phone_number_id option")
    assert len(numbers) == 1 and numbers[0].isdigit()
    assert "Choose a template and an audience" in main_text(page)
    # Choosing the template: its three body variables to map.
    r = await admin.post(PREVIEW, {"template": str(promo.id), "audience_all": "1"}, htmx=True,
                         headers={"HX-Target": "campaign-variables"})
    assert r.headers["HX-Trigger-After-Settle"] == "campaign-changed"
    fragment = soup(r)
    assert fragment.find(id="campaign-variables") is not None
    assert field(fragment, "Body {{3}} field").get("name") == "var_field_3_field"
    assert field(fragment, "Body {{2}} comes from").get("name") == "var_field_2_kind"
    # The summary: 3 contacts, Otto opted out; the first recipient's message.
    r = await admin.post(PREVIEW, form(promo), htmx=True, headers={"HX-Target": "campaign-summary"})
    summary = soup(r)
    text = summary.get_text(" ", strip=True)
    assert "2 recipients will be sent the message; 1 of the 3 contacts" in text
    assert "Opted out: 1" in text
    assert "Preview for Ann Lee" in text
    bubble = summary.select_one(".wa-body")
    assert bubble is not None
    assert bubble.get_text() == "Hi Ann, use code SPRING at Acme Bikes."
    # With no fallback for the company, Opal is left out (and said why).
    r = await admin.post(PREVIEW, form(promo, var_field_3_fallback=""), htmx=True,
                         headers={"HX-Target": "campaign-summary"})
    text = soup(r).get_text(" ", strip=True)
    assert "1 recipient will be sent the message; 2 of the 3 contacts" in text
    assert "A variable is empty and has no fallback: 1" in text


async def test_the_wizard_summary_of_a_large_audience_counts_its_first_contacts_only(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each form change recounts the summary: a large audience is counted up to a bound
    (here 2 instead of 5,000), and the page says the figures are lower bounds."""
    monkeypatch.setattr(estimate, "MAX_COUNTED", 2)
    for name in ("Ann", "Bea", "Cy"):
        await factory.contact(team.a, firstname=name, company="Acme")
    admin = await signed_in("admin")
    r = await admin.post(PREVIEW, form(promo), htmx=True, headers={"HX-Target": "campaign-summary"})
    text = soup(r).get_text(" ", strip=True)
    assert "At least 2 recipients will be sent the message" in text
    assert "Only the first 2 contacts were counted here" in text
    monkeypatch.setattr(estimate, "MAX_COUNTED", 3)  # all of them: no "at least"
    r = await admin.post(PREVIEW, form(promo), htmx=True, headers={"HX-Target": "campaign-summary"})
    text = soup(r).get_text(" ", strip=True)
    assert "3 recipients will be sent the message" in text and "At least" not in text


async def test_the_wizard_shows_the_services_messages_and_keeps_every_value(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template
) -> None:
    group = await factory.group(team.a, "VIP")
    admin = await signed_in("admin")
    r = await admin.post(
        LIST,
        form(promo, name="", var_field_2_value="", audience_all="0", when="later",
             scheduled_at="2001-01-01T10:00", timezone="Europe/Paris", rate_per_second="5000",
             var_field_1_fallback="pal", **{"groups[]": [str(group.id)]}),
    )
    assert r.status_code == 422
    page = soup(r)
    assert field_errors(page, "Campaign name") == ["The name field is required."]
    assert field_errors(page, "Body {{2}} text") == [
        "The variables.field 2.value field is required."
    ]
    assert field_errors(page, "Send at") == ["The scheduled at must be a date after now."]
    assert field_errors(page, "Send rate") == ["The rate per second may not be greater than 1000."]
    # Nothing typed is lost.
    assert field(page, "Body {{1}} fallback").get("value") == "pal"
    assert field(page, "Send at").get("value") == "2001-01-01T10:00"
    assert field(page, "Time zone").find("option", selected=True)["value"] == "Europe/Paris"
    assert field(page, "VIP").has_attr("checked")
    assert not field(page, "Every contact").has_attr("checked")
    assert page.find("input", {"name": "when", "value": "later"}).has_attr("checked")
    assert page.select_one("#f-template option[selected]")["value"] == str(promo.id)
    # No audience at all: the service's message beside the audience.
    r = await admin.post(LIST, form(promo, audience_all="0"))
    assert r.status_code == 422
    assert "The audience must name groups, statuses, sources, types, contact ids or all." in (
        soup(r).find(class_="field-error").get_text())
    r = await admin.post(LIST, form(promo, template=""))
    assert "The template name field is required." in main_text(soup(r))


async def test_a_scheduled_campaign_keeps_its_time_zone(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template, app: FastAPI
) -> None:
    await factory.contact(team.a, firstname="Ann")
    admin = await signed_in("admin")
    campaign_id = await create(admin, promo, when="later", scheduled_at="2099-06-01T09:30",
                               timezone="Asia/Tokyo", rate_per_second="20")
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None
        assert (campaign.state, campaign.timezone, campaign.rate_per_second) == (
            "scheduled", "Asia/Tokyo", 20)
        assert campaign.scheduled_at is not None
        assert campaign.scheduled_at.isoformat().startswith("2099-06-01T00:30")
        assert campaign.variables["field_2"] == {"type": "constant", "value": "SPRING"}
    page = soup(await admin.get(f"{LIST}/{campaign_id}"))
    assert "Scheduled for 2099-06-01 00:30 UTC (Asia/Tokyo)" in main_text(page)
    assert "No recipients yet" in main_text(page)
    assert page.select_one("[data-progress]").get_text() == "0 %"  # not "100 %" of nothing


async def test_the_campaign_page_shows_progress_failures_recipients_and_the_report(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template, engine: CampaignEngine,
    app: FastAPI,
) -> None:
    for name in ("Ann", "Bob", "Cy", "Di"):
        await factory.contact(team.a, firstname=name)
    admin = await signed_in("admin")
    campaign_id = await create(admin, promo)
    url = f"{LIST}/{campaign_id}"
    page = soup(await admin.get(url))
    status = page.find(id="campaign-status")
    assert status["hx-trigger"] == "every 1s"  # the text refreshes itself, not the buttons
    assert (status["hx-get"], status["hx-select"]) == (
        f"{url}?buttons=pause,cancel",
        "#campaign-status",
    )
    actions = page.find(id="campaign-actions")
    assert actions.find_parent(id="campaign-status") is None
    assert actions["hx-trigger"] == "campaign-buttons from:body"
    await engine.drain()
    async with app.state.sessionmaker() as s:
        ids = list(await s.scalars(select(CampaignRecipient.id).where(
            CampaignRecipient.campaign_id == campaign_id).order_by(CampaignRecipient.id)))
        for rid, code, text, retry in ((ids[0], 131026, "Message undeliverable", False),
                                       (ids[1], 131026, "Message undeliverable", False),
                                       (ids[2], 131000, "Something went wrong", True)):
            await s.execute(update(CampaignRecipient).where(CampaignRecipient.id == rid).values(
                state="failed", error_code=code, error_message=text, retryable=retry))
        await s.commit()
    poll = {"HX-Target": "campaign-status"}
    r = await admin.get(f"{url}?buttons=retry-failed", htmx=True, headers=poll)
    assert r.headers["HX-Trigger"] == "campaign-tick"  # the recipient list follows
    r = await admin.get(f"{url}?buttons=pause,cancel", htmx=True, headers=poll)
    assert r.headers["HX-Trigger"] == "campaign-tick, campaign-buttons"  # and the buttons
    progress = soup(r)
    assert progress.find(id="campaign-status").get("hx-trigger") is None  # done: no polling
    assert progress.select_one("[data-progress]").get_text() == "100 %"
    assert progress.select_one("progress")["value"] == "4"
    counters = dict(zip(texts(progress, "dt"), texts(progress, "dd"), strict=True))
    assert counters["Audience"] == "4" and counters["Sent"] == "1" and counters["Failed"] == "3"
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in progress.select("tbody tr")]
    assert rows == [["131026", "Message undeliverable", "2"],
                    ["131000", "Something went wrong", "1"]]
    buttons = texts(progress, "button")
    assert buttons == ["Retry failed"]
    # Recipients by state.
    failed = soup(await admin.get(url, params={"recipient_state": "failed"}))
    assert len(failed.select("#campaign-recipients tbody tr")) == 3
    sent = soup(await admin.get(url, params={"recipient_state": "sent"}, htmx=True,
                                headers={"HX-Target": "campaign-recipients"}))
    assert [r.find_all("td")[1].get_text(strip=True) for r in sent.select("tbody tr")] == ["Sent"]
    # Retry failed: only the retryable one goes again.
    r = await admin.post(f"{url}/retry-failed")
    assert r.status_code == 303
    after = await admin.get(r.headers["location"])
    assert "1 failed recipient queued again." in after.text
    await engine.drain()
    report = await admin.get(f"{url}/report.csv")
    assert report.headers["content-type"].startswith("text/csv")
    lines = report.text.strip().splitlines()
    assert lines[0].startswith("recipient_id,contact_id,phone,state")
    assert len(lines) == 5 and sum(",131026," in line for line in lines) == 2


async def test_pause_resume_cancel_and_what_a_state_does_not_allow(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template, app: FastAPI
) -> None:
    await factory.contact(team.a, firstname="Ann")
    admin = await signed_in("admin")
    campaign_id = await create(admin, promo, when="later", scheduled_at="2099-01-01T00:00")
    url = f"{LIST}/{campaign_id}"
    assert texts(soup(await admin.get(url)), "#campaign-progress button") == [
        "Pause", "Cancel campaign"]
    r = await admin.post(f"{url}/pause")
    page = soup(await admin.get(r.headers["location"]))
    assert "Campaign paused." in page.get_text()
    assert "Paused by a person." in main_text(page)
    assert texts(page, "#campaign-progress button") == ["Resume", "Cancel campaign"]
    r = await admin.post(f"{url}/pause")  # a paused campaign cannot be paused
    assert "A paused campaign cannot be paused." in (await admin.get(r.headers["location"])).text
    await admin.post(f"{url}/resume")
    await admin.post(f"{url}/cancel")
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None and campaign.state == "cancelled"
    page = soup(await admin.get(url))
    assert texts(page, "#campaign-progress button") == []


async def test_agents_read_campaigns_but_change_nothing(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template, app: FastAPI
) -> None:
    await factory.contact(team.a, firstname="Ann")
    admin = await signed_in("admin")
    campaign_id = await create(admin, promo, when="later", scheduled_at="2099-01-01T00:00")
    agent = await signed_in("agent")
    url = f"{LIST}/{campaign_id}"
    page = soup(await agent.get(url))
    assert "Spring sale" in main_text(page)
    assert texts(page, "#campaign-progress button") == []
    assert page.find("a", string="Report (CSV)") is None
    for path in (f"{url}/pause", f"{url}/cancel", LIST):
        r = await agent.post(path, form(promo))
        assert r.status_code == 403 and "This page needs the admin role or higher." in r.text
    assert (await agent.get(NEW)).status_code == 403
    assert (await agent.get(f"{url}/report.csv")).status_code == 403
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None and campaign.state == "scheduled"


async def test_another_workspace_never_finds_a_campaign(
    signed_in: SignedIn, browser: Any, team: Team, factory: Factory, promo: Template, app: FastAPI
) -> None:
    await factory.contact(team.a, firstname="Ann")
    owner = await signed_in("owner")
    campaign_id = await create(owner, promo, when="later", scheduled_at="2099-01-01T00:00")
    outsider: WebClient = await browser()
    await outsider.sign_in(team.b_owner.email)
    theirs = f"/app/globex/campaigns/{campaign_id}"
    for path in ("", "/report.csv"):
        assert (await outsider.get(theirs + path)).status_code == 404
    for action in ("pause", "cancel"):
        assert (await outsider.post(f"{theirs}/{action}")).status_code == 404
    assert (await outsider.get(f"{LIST}/{campaign_id}")).status_code == 404  # not a member
    assert "Spring sale" not in (await outsider.get("/app/globex/campaigns")).text
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None and campaign.state == "scheduled"
