"""The inbox composer in Chromium against a real server: a saved reply made in Settings →
Inbox is inserted by typing "/" (picked with the keyboard), and "Reply" on a customer's
message quotes it in the answer."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from playwright.async_api import Page

from tests.web.browser.conftest import expect, sign_in
from tests.web.browser.test_inbox import ANN, Customer
from tests.web.conftest import Team


async def test_a_saved_reply_is_inserted_by_typing_a_slash(
    page: Page,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    await sign_in(page, team.admin.email)
    await page.goto("/app/acme/settings/inbox")
    await page.get_by_label("Shortcut").fill("hours")
    await page.get_by_label("Text").fill("We are open 9:00 to 17:00, Monday to Friday.")
    await page.get_by_role("button", name="Add saved reply").click()
    await expect(page.get_by_role("cell", name="/hours", exact=True)).to_be_visible()
    await page.get_by_label("Shortcut").fill("thanks")
    await page.get_by_label("Text").fill("Thank you for writing!")
    await page.get_by_role("button", name="Add saved reply").click()
    await expect(page.get_by_role("cell", name="/thanks", exact=True)).to_be_visible()

    customer = Customer(app, client, admin_headers)
    await customer.writes("acme", ANN, "When are you open?", "Ann Able")
    await page.goto(f"/app/acme/inbox/{await customer.chat_id(team.a.workspace.id)}")
    box = page.get_by_label("Message", exact=True)
    await box.press_sequentially("Hello! /")
    picker = page.get_by_role("list", name="Saved replies")
    await expect(picker).to_be_visible()
    await expect(picker.get_by_role("button")).to_have_count(2)
    await box.press_sequentially("ho")
    await expect(picker.get_by_role("button")).to_have_count(1)
    await box.press("Enter")
    await expect(picker).to_be_hidden()
    await expect(box).to_have_value("Hello! We are open 9:00 to 17:00, Monday to Friday.")
    await page.get_by_role("button", name="Send", exact=True).click()
    sent = page.locator(".bubble-outbound").filter(has_text="We are open 9:00 to 17:00")
    await expect(sent).to_be_visible()
    # A click works as well, and Escape closes the picker.
    await box.press_sequentially("/")
    await expect(picker).to_be_visible()
    await box.press("Escape")
    await expect(picker).to_be_hidden()
    await box.press_sequentially("t")
    await picker.get_by_role("button", name="/thanks").click()
    await expect(box).to_have_value("Thank you for writing!")


async def test_reply_to_a_customers_message_quotes_it(
    page: Page,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    customer = Customer(app, client, admin_headers)
    await customer.writes("acme", ANN, "Do you ship to Lisbon?", "Ann Able")
    await customer.writes("acme", ANN, "And to Porto?", "Ann Able")
    await sign_in(page, team.agent.email)
    await page.goto(f"/app/acme/inbox/{await customer.chat_id(team.a.workspace.id)}")
    asked = page.locator(".bubble-inbound").filter(has_text="Do you ship to Lisbon?")
    await asked.get_by_role("button", name="Reply").click()
    await expect(page.get_by_text("Replying to: Do you ship to Lisbon?")).to_be_visible()
    await expect(page.get_by_label("Message", exact=True)).to_be_focused()
    await page.get_by_label("Message", exact=True).fill("Yes, in two days.")
    await page.get_by_role("button", name="Send", exact=True).click()
    mine = page.locator(".bubble-outbound").filter(has_text="Yes, in two days.")
    await expect(mine).to_be_visible()
    await expect(mine.locator("blockquote")).to_have_text("Do you ship to Lisbon?")
    await expect(page.get_by_text("Replying to:")).to_be_hidden()
