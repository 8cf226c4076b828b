"""A campaign made in the wizard in a real browser, sent through the sandbox provider by a
worker's campaign engine, its page's progress bar followed to 100 % without a reload; Pause
clicked while the progress refreshes still pauses it."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from playwright.async_api import Page

from tests.factories import Factory
from tests.web.browser.conftest import Contexts, expect, sign_in
from tests.web.browser.test_campaign_wizard import add_template, started_campaign
from tests.web.conftest import Team
from xobito.campaign.engine import CampaignEngine
from xobito.campaign.pacing import MemoryPacer
from xobito.config import Settings
from xobito.models import Template
from xobito.template.schemas import from_meta
from xobito.testing.meta_templates import make_template
from xobito.whatsapp.sandbox import SandboxProvider

PEOPLE = 30


async def test_owner_creates_a_campaign_in_the_wizard_and_watches_it_reach_100_percent(
    page: Page, team: Team, factory: Factory, app: FastAPI, settings: Settings
) -> None:
    async with app.state.sessionmaker() as s:
        meta = make_template("promo", body="Hi {{1}}, use code {{2}}.")
        s.add(Template(workspace_id=team.a.workspace.id, **from_meta(meta)))
        await s.commit()
    await factory.contacts(
        team.a, [{"firstname": f"Ann{i}", "phone": f"+1212555{i:04d}"} for i in range(PEOPLE)]
    )
    await sign_in(page, team.owner.email)
    await page.get_by_role("link", name="Campaigns").click()
    await expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    await page.get_by_role("link", name="New campaign").click()

    await page.get_by_label("Campaign name").fill("Spring sale")
    template = page.get_by_role("combobox", name="Template", exact=True)
    await template.select_option(label="promo (en_US)")
    await expect(page.get_by_label("Body {{1}} field")).to_have_value("firstname")
    await page.get_by_label("Body {{2}} comes from").select_option("constant")
    await page.get_by_label("Body {{2}} text").fill("SPRING")
    summary = page.locator("#campaign-summary")
    await expect(summary).to_contain_text(f"{PEOPLE} recipients will be sent the message")
    await expect(summary.locator(".wa-body")).to_have_text("Hi Ann0, use code SPRING.")
    await page.get_by_label("Send rate").fill("10")
    await page.get_by_role("button", name="Create campaign").click()

    await expect(page.get_by_role("heading", name="Spring sale")).to_be_visible()
    await expect(page.get_by_text("Campaign Spring sale starts.")).to_be_visible()
    # A worker's campaign engine (the test server runs none in process) sends it.
    engine = CampaignEngine(
        app.state.sessionmaker, {"sandbox": SandboxProvider()}, settings,
        pacer=MemoryPacer(), poll_seconds=0.05,
    )  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop))
    try:
        # The page polls every second: the bar fills without a reload.
        progress = page.locator("#campaign-progress")
        await expect(progress.locator("[data-progress]")).to_have_text("100 %", timeout=60_000)
        await expect(progress.locator("[data-campaign-state]")).to_have_text("Completed")
        bar = page.get_by_role("progressbar", name="Recipients done")
        await expect(bar).to_have_attribute("value", str(PEOPLE))
        await expect(progress).to_contain_text(f"{PEOPLE} of {PEOPLE} recipients done")
    finally:
        stop.set()
        await running
    await expect(progress.get_by_role("button", name="Retry failed")).to_be_visible()
    recipients = page.locator("#campaign-recipients tbody tr")
    await expect(recipients).to_have_count(PEOPLE)


# Resolves once the progress poll has swapped in a new region (the text; before the fix the
# whole section, buttons and all); fails after 10 s without one.
NEXT_REFRESH = """() => new Promise((done, fail) => {
  const polled = node => node.id === "campaign-status" || node.id === "campaign-progress";
  const watcher = new MutationObserver(changes => {
    if (changes.some(c => [...c.addedNodes].some(polled))) { watcher.disconnect(); done(); }
  });
  watcher.observe(document.body, {childList: true, subtree: true});
  setTimeout(() => { watcher.disconnect(); fail(new Error("no refresh in 10 s")); }, 10000);
})"""


async def test_pause_pressed_while_the_progress_refreshes_pauses_the_campaign(
    people: Contexts, team: Team, factory: Factory, app: FastAPI
) -> None:
    await add_template(app, team, "promo", body="Hi {{1}}.")
    await factory.contacts(
        team.a, [{"firstname": f"P{i}", "phone": f"+1212557{i:04d}"} for i in range(3)]
    )
    page = await people.new()
    await sign_in(page, team.owner.email)
    await started_campaign(page, app, "Hold on")
    await page.reload()
    await expect(page.locator("[data-campaign-state]")).to_have_text("Running")
    pause = page.get_by_role("button", name="Pause")
    where = await pause.bounding_box()
    assert where is not None
    # The button goes down, a refresh lands, then the button comes up: a click only if the
    # button under the pointer is still the one pressed (it was replaced before the fix).
    await page.mouse.move(where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)
    await page.mouse.down()
    await page.evaluate(NEXT_REFRESH)
    await page.mouse.up()
    await expect(page.get_by_text("Campaign paused.")).to_be_visible()
    await expect(page.locator("[data-campaign-state]")).to_have_text("Paused")
    await expect(page.get_by_role("button", name="Resume")).to_be_visible()
