"""Signing in and out in a real browser."""

from __future__ import annotations

from playwright.async_api import Page

from tests.web.browser.conftest import expect, sign_in
from tests.web.conftest import Team


async def test_sign_in_and_out(page: Page, team: Team) -> None:
    await page.goto("/app/acme/contacts")
    await expect(page).to_have_url("/app/login?next=%2Fapp%2Facme%2Fcontacts")
    await page.get_by_label("Email").fill(team.owner.email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("These credentials do not match our records.")).to_be_visible()
    await expect(page.get_by_label("Email")).to_be_focused()

    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url("/app/acme/contacts")
    await expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url("/app/login")
    await expect(page.get_by_text("You are signed out.")).to_be_visible()
    await page.goto("/app/acme/contacts")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_sign_in_page_keyboard_only(page: Page, team: Team) -> None:
    await page.goto("/app/login")
    await page.keyboard.press("Tab")  # the skip link first
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Email")).to_be_focused()
    await page.keyboard.type(team.agent.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type("correct horse battery")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url("/app/acme/contacts")


async def test_signed_in_user_with_two_workspaces_switches(page: Page, team: Team) -> None:
    await sign_in(page, team.owner.email)
    await expect(page).to_have_url("/app/acme/contacts")
