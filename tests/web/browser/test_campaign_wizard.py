"""The wizard's CSV audience and header medium, and a campaign page that follows the
campaign: its recipient list refreshed live under the chosen filter (the filter itself never
replaced), and a cancelled campaign's real share sent."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from playwright.async_api import Page
from sqlalchemy import select, update

from tests.factories import Factory
from tests.web.browser.conftest import Contexts, axe_violations, expect, sign_in
from tests.web.conftest import Team
from xobito.campaign.starting import start
from xobito.kit.time import utcnow
from xobito.models import Campaign, CampaignRecipient, Contact, Template
from xobito.template.schemas import from_meta
from xobito.testing.meta_templates import make_template


async def add_template(app: FastAPI, team: Team, name: str, **meta: object) -> None:
    async with app.state.sessionmaker() as s:
        s.add(Template(workspace_id=team.a.workspace.id, **from_meta(make_template(name, **meta))))
        await s.commit()


async def open_wizard(page: Page, name: str, template: str) -> None:
    await page.goto("/app/acme/campaigns/new")
    await page.get_by_label("Campaign name").fill(name)
    await page.get_by_role("combobox", name="Template", exact=True).select_option(label=template)
    # The template's variables arrive by htmx: a create clicked before would post none.
    await expect(page.get_by_label("Body {{1}} comes from")).to_be_visible()


async def created_id(page: Page, name: str) -> int:
    await expect(page.get_by_role("heading", name=name)).to_be_visible()
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


async def test_a_csv_audience_with_a_bad_row_reported_by_line_and_the_campaign_created(
    people: Contexts, team: Team, factory: Factory, app: FastAPI, tmp_path: Path
) -> None:
    await add_template(app, team, "promo", body="Hi {{1}}, use code {{2}}.")
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Fair")
    file = tmp_path / "fair.csv"
    file.write_text("Phone,Name,Code\n+12125550101,Kim,K1\n,Nobody,N1\n+12125550102,Lu,L2\n")
    page = await people.new(bypass_csp=True)
    await sign_in(page, team.owner.email)
    await open_wizard(page, "Fair leads", "promo (en_US)")
    await page.get_by_label("Phone numbers from a CSV file").check()
    await page.get_by_label("CSV file", exact=True).set_input_files(str(file))
    csv = page.locator("#campaign-csv")
    await expect(csv).to_contain_text("fair.csv: 3 rows, 2 numbers to send to")
    await expect(csv.get_by_role("listitem")).to_have_text(["Line 3: The phone field is required."])
    # The file's columns are offered to the variables.
    options = page.locator("#csv-columns option")
    await expect(options).to_have_count(3)
    assert [await o.get_attribute("value") for o in await options.all()] == [
        "phone",
        "name",
        "code",
    ]
    await page.get_by_label("Body {{1}} comes from").select_option("csv")
    await page.get_by_label("Body {{1}} column").fill("name")
    await page.get_by_label("Body {{2}} comes from").select_option("csv")
    await page.get_by_label("Body {{2}} column").fill("code")
    await page.get_by_label("Status of new contacts").select_option(label="New")
    await page.get_by_label("Source of new contacts").select_option(label="Fair")
    summary = page.locator("#campaign-summary")
    await expect(summary).to_contain_text("2 numbers of fair.csv will be sent the message")
    await expect(summary.locator(".wa-body")).to_have_text("Hi Kim, use code K1.")
    assert await axe_violations(page) == []
    await page.get_by_role("button", name="Create campaign").click()

    campaign_id = await created_id(page, "Fair leads")
    await expect(page.get_by_text("1 row of the CSV could not be used (below).")).to_be_visible()
    await expect(page.locator("[data-csv-report]")).to_have_text("3 rows read, 2 used, 1 left out.")
    await expect(page.get_by_text("Line 3: The phone field is required.")).to_be_visible()
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None and campaign.state == "scheduled"
        assert [row[0] for row in campaign.csv_rows or []] == ["+12125550101", "+12125550102"]
        made = (
            await s.scalars(select(Contact).where(Contact.workspace_id == team.a.workspace.id))
        ).all()
        assert {(c.phone, c.status_id, c.source_id) for c in made} == {
            ("+12125550101", status.id, source.id),
            ("+12125550102", status.id, source.id),
        }


async def test_a_header_image_by_url(
    page: Page, team: Team, factory: Factory, app: FastAPI
) -> None:
    await add_template(
        app, team, "banner", header={"format": "IMAGE"}, body="Hi {{1}}", body_examples=("Jo",)
    )
    await factory.contact(team.a, firstname="Ann")
    await sign_in(page, team.owner.email)
    await open_wizard(page, "Banner", "banner (en_US)")
    await expect(page.get_by_label("Header image file")).to_be_visible()
    await page.get_by_role("button", name="Create campaign").click()
    await expect(
        page.get_by_text("The header image url or header image file is required by this template.")
    ).to_be_visible()
    await page.get_by_label("Header image URL").fill("https://cdn.example.com/banner.png")
    await page.get_by_role("button", name="Create campaign").click()
    campaign_id = await created_id(page, "Banner")
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None
        assert campaign.header == {"type": "image", "link": "https://cdn.example.com/banner.png"}


async def started_campaign(page: Page, app: FastAPI, name: str) -> tuple[int, list[int]]:
    """A campaign made in the wizard and started here (the test server runs no engine):
    its recipients all pending."""
    await open_wizard(page, name, "promo (en_US)")
    await page.get_by_role("button", name="Create campaign").click()
    campaign_id = await created_id(page, name)
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None and await start(s, campaign, utcnow())
        await s.commit()
        ids = list(
            await s.scalars(
                select(CampaignRecipient.id)
                .where(CampaignRecipient.campaign_id == campaign_id)
                .order_by(CampaignRecipient.id)
            )
        )
    return campaign_id, ids


async def mark_sent(app: FastAPI, ids: list[int]) -> None:
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.id.in_(ids))
            .values(state="sent", sent_at=utcnow(), wamid="wamid.x")
        )
        await s.commit()


async def test_the_recipient_list_follows_the_campaign_under_the_chosen_filter(
    page: Page, team: Team, factory: Factory, app: FastAPI
) -> None:
    await add_template(app, team, "promo", body="Hi {{1}}.")
    await factory.contacts(
        team.a, [{"firstname": f"P{i}", "phone": f"+1212555{i:04d}"} for i in range(6)]
    )
    await sign_in(page, team.owner.email)
    campaign_id, ids = await started_campaign(page, app, "Live list")
    await page.reload()
    rows = page.locator("#recipients-list tbody tr")
    await expect(rows).to_have_count(6)
    state = page.get_by_label("Recipient state")
    await state.select_option("sent")
    await expect(page.get_by_text("No sent recipients")).to_be_visible()
    assert "recipient_state=sent" in page.url
    # A mark on the filter's element: if a refresh replaced the form, the mark would be gone.
    await state.evaluate("el => { el.dataset.kept = ''; window.filterElement = el; }")
    await mark_sent(app, ids[:2])
    await expect(rows).to_have_count(2)  # no reload: the list follows the progress poll
    await expect(page.locator("[data-progress]")).to_have_text("33 %")
    await expect(page.locator("[data-campaign-state]")).to_have_text("Running")
    await mark_sent(app, ids[2:])
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(state="completed", completed_at=utcnow())
        )
        await s.commit()
    await expect(rows).to_have_count(6)
    await expect(page.locator("[data-campaign-state]")).to_have_text("Completed")
    assert await state.evaluate("el => el === window.filterElement && 'kept' in el.dataset")
    await expect(state).to_have_value("sent")
    # Finished: neither region polls any more.
    await expect(page.locator("#recipients-list")).not_to_have_attribute(
        "hx-trigger", "campaign-tick from:body"
    )
    await expect(page.locator("#campaign-status")).not_to_have_attribute("hx-trigger", "every 1s")


async def test_a_cancelled_campaign_shows_the_share_it_sent_and_that_it_was_cancelled(
    people: Contexts, team: Team, factory: Factory, app: FastAPI
) -> None:
    await add_template(app, team, "promo", body="Hi {{1}}.")
    await factory.contacts(
        team.a, [{"firstname": f"P{i}", "phone": f"+1212556{i:04d}"} for i in range(10)]
    )
    page = await people.new(bypass_csp=True)
    await sign_in(page, team.owner.email)
    _, ids = await started_campaign(page, app, "Stopped early")
    await mark_sent(app, ids[:3])
    progress = page.locator("#campaign-progress")
    await expect(progress.locator("[data-progress]")).to_have_text("30 %")
    await progress.get_by_role("button", name="Cancel campaign").click()
    await expect(page.get_by_text("Campaign cancelled.")).to_be_visible()
    await expect(progress.locator("[data-campaign-state]")).to_have_text("Cancelled")
    await expect(progress.locator("[data-progress]")).to_have_text("30 %")
    await expect(progress.get_by_role("progressbar", name="Recipients done")).to_have_attribute(
        "value", "3"
    )
    await expect(progress.locator("[data-progress-note]")).to_contain_text(
        ": 7 of the 10 recipients were never sent."
    )
    assert await axe_violations(page) == []
    await page.get_by_role("link", name="← Campaigns").click()
    await expect(page.get_by_role("row", name="Stopped early")).to_contain_text("30 % done")
