"""The inbox's layout in Chromium (static/inbox.css): on a desktop the conversation list, the
thread and the contact panel side by side filling the screen, the messages scrolling on their
own with the newest in view and the composer on screen, bubbles on their sides; on a phone an
open conversation shows only its thread, with a link back to the list; the composer is compact
(under 20 % of a 1440x900 screen, its controls in one row). axe finds no serious
problem (colour contrast) with a note, a failed send and read ticks on screen."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from playwright.async_api import Page

from tests.web.browser.conftest import PHONE, Contexts, axe_violations, expect, sign_in
from tests.web.browser.test_inbox import ANN, BROKEN, Customer
from tests.web.browser.test_pages import sign_in_anywhere
from tests.web.conftest import Team

WIDE = {"width": 1440, "height": 900}
BOX = """e => {
  const r = e.getBoundingClientRect();
  return {x: r.x, y: r.y, right: r.right, bottom: r.bottom};
}"""


async def box(page: Page, selector: str) -> dict[str, Any]:
    found: dict[str, Any] = await page.locator(selector).first.evaluate(BOX)
    return found


async def customer_writes_many(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], count: int
) -> None:
    for i in range(count):
        r = await client.post(
            "/api/admin/workspaces/acme/sandbox/inbound",
            json={
                "phone_number": ANN,
                "text": f"Question number {i + 1}",
                "profile_name": "Ann Able",
            },
            headers=admin,
        )
        assert r.status_code == 202, r.text
    await app.state.worker.drain()


async def test_on_a_desktop_three_columns_fill_the_screen_and_the_thread_scrolls_alone(
    people: Contexts,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    await customer_writes_many(app, client, admin_headers, 14)
    customer = Customer(app, client, admin_headers)
    chat_id = await customer.chat_id(team.a.workspace.id)
    page = await people.new(viewport=WIDE, bypass_csp=True)  # axe is injected as a script
    await sign_in(page, team.agent.email)
    await page.goto(f"/app/acme/inbox/{chat_id}")
    await page.get_by_label("Message", exact=True).fill("Here is the answer.")
    await page.get_by_role("button", name="Send", exact=True).click()
    mine = page.locator(".bubble-outbound").filter(has_text="Here is the answer.")
    await expect(mine).to_be_visible()
    await page.get_by_label("Internal note").fill("She asked fourteen times.")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.locator(".bubble-note")).to_contain_text("She asked fourteen times.")
    await app.state.worker.drain()  # the sandbox's statuses: the reply is read
    await expect(mine.get_by_title("Read")).to_be_visible()

    listing = await box(page, ".inbox-list")
    thread = await box(page, ".inbox-thread")
    contact = await box(page, ".inbox-contact")
    assert listing["right"] <= thread["x"] + 1 and thread["right"] <= contact["x"] + 1
    assert listing["y"] == thread["y"] == contact["y"]
    # The page itself does not scroll: the messages do, and the newest is in view above the
    # composer, which is on screen.
    assert await page.evaluate("document.documentElement.scrollHeight") <= WIDE["height"]
    scroller = page.locator("#thread-messages")
    assert await scroller.evaluate("e => e.scrollHeight > e.clientHeight")
    composer = await box(page, "#composer")
    assert composer["bottom"] <= WIDE["height"]
    note = await box(page, ".bubble-note")
    assert note["bottom"] <= composer["y"]
    await expect(page.locator(".bubble-note")).to_be_in_viewport()
    await expect(page.get_by_text("Question number 1", exact=True)).not_to_be_in_viewport()
    # The composer is compact: under 20 % of the screen (it was 29.5 %, 266 px); the
    # attachment, the templates and the one-line note share one row under a one-line message
    # box, which grows with its text.
    assert composer["bottom"] - composer["y"] < 0.2 * WIDE["height"], composer
    row = [await box(page, s) for s in (".composer-attach", ".templates", ".composer-note")]
    assert max(b["y"] for b in row) < min(b["bottom"] for b in row), row
    assert all(b["bottom"] - b["y"] < 48 for b in row), row
    message = page.get_by_label("Message", exact=True)
    empty = await box(page, "#message-body")
    one_line = empty["bottom"] - empty["y"]
    assert one_line < 48, one_line
    await message.fill("Line one\nLine two\nLine three\nLine four")
    grown = await box(page, "#message-body")
    assert grown["bottom"] - grown["y"] > 2.5 * one_line, (grown, one_line)
    assert (await box(page, "#composer"))["bottom"] <= WIDE["height"]
    await message.fill("")
    # Customers on the left, the team on the right; the list has no bullets.
    inbound = await box(page, ".bubble-inbound")
    reply = await box(page, ".bubble-outbound")
    assert inbound["x"] < reply["x"] and inbound["right"] < reply["right"]
    bullets = "e => getComputedStyle(e).listStyleType"
    assert await page.locator(".conversations").evaluate(bullets) == "none"
    assert await axe_violations(page) == []

    # A failed send: Meta's reason shown in the bubble, still no contrast problem.
    await customer.writes("acme", BROKEN, "Hello?", "Bo Broken")
    await page.get_by_role("link", name="Bo Broken").click()
    await page.get_by_label("Message", exact=True).fill("Are you there?")
    await page.get_by_role("button", name="Send", exact=True).click()
    failed = page.locator(".bubble-failed").filter(has_text="Are you there?")
    await expect(failed.get_by_role("alert")).to_contain_text("131026")
    assert await axe_violations(page) == []


async def test_on_a_phone_an_open_conversation_shows_its_thread_and_a_way_back(
    people: Contexts,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    customer = Customer(app, client, admin_headers)
    await customer.writes("acme", ANN, "Is my parcel on its way?", "Ann Able")
    page = await people.new(viewport=PHONE)
    await sign_in_anywhere(page, team.agent.email)
    await page.goto("/app/acme/inbox")
    await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    await page.get_by_role("link", name="Ann Able").click()

    await expect(page.get_by_role("heading", name="Ann Able")).to_be_visible()
    await expect(page.get_by_role("heading", name="Inbox")).to_be_hidden()
    await expect(page.get_by_role("link", name="Ann Able")).to_be_hidden()
    await expect(page.locator(".bubble-inbound")).to_be_in_viewport()
    await expect(page.get_by_label("Message", exact=True)).to_be_in_viewport()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    await page.get_by_role("link", name="All conversations").click()
    await expect(page.get_by_role("link", name="Ann Able")).to_be_visible()
    await expect(page.get_by_role("heading", name="Ann Able")).to_be_hidden()
