"""Settings → Team in a real browser: an owner invites an agent, who joins through the link,
signs in, and cannot open Settings."""

from __future__ import annotations

from playwright.async_api import Page

from tests.web.browser.conftest import Contexts, expect, sign_in
from tests.web.conftest import Team


async def test_invites_an_agent_who_signs_in_and_cannot_open_settings(
    page: Page, people: Contexts, team: Team
) -> None:
    await sign_in(page, team.owner.email)
    await page.get_by_role("link", name="Team").click()
    await expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    await page.get_by_label("Email").fill("newagent@example.com")
    await page.get_by_role("combobox", name="Role", exact=True).select_option("agent")
    await page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_label("Invitation link")
    await expect(link).to_be_visible()
    url = await link.input_value()
    assert "/app/invite/" in url
    await expect(page.get_by_role("row").filter(has_text="newagent@example.com")).to_be_visible()

    # The invitee: another person, another browser.
    invitee = await people.new()
    await invitee.goto(url[url.index("/app/invite/") :])
    await expect(invitee.get_by_role("heading", name="Join Acme Inc.")).to_be_visible()
    await invitee.get_by_label("Your name").fill("Nia New")
    await invitee.get_by_role("textbox", name="Password", exact=True).fill("a long password")
    await invitee.get_by_label("Confirm password").fill("a long password")
    await invitee.get_by_role("button", name="Create account and join").click()
    await expect(invitee.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()

    # Signs out and in again with the new password; no Settings for an agent.
    await invitee.get_by_role("button", name="Sign out").click()
    await sign_in(invitee, "newagent@example.com", "a long password")
    nav = invitee.get_by_role("navigation", name="Workspace")
    await expect(nav.get_by_role("link", name="Contacts")).to_be_visible()
    for name in ("API tokens", "Webhooks", "WhatsApp", "Team", "Activity"):
        await expect(nav.get_by_role("link", name=name)).to_have_count(0)
    for path in ("tokens", "webhooks", "whatsapp", "team"):
        await invitee.goto(f"/app/acme/settings/{path}")
        await expect(invitee.get_by_role("heading", name="Not allowed")).to_be_visible()
        await expect(
            invitee.get_by_text("This page needs the admin role or higher.")
        ).to_be_visible()

    # The owner sees the new member.
    await page.reload()
    await expect(page.get_by_role("row").filter(has_text="Nia New")).to_contain_text("Agent")
