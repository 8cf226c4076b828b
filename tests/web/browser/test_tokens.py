"""Settings → API tokens in a real browser: create one, copy it, use it against the API."""

from __future__ import annotations

import httpx
from playwright.async_api import Page

from tests.factories import PASSWORD, Factory
from tests.servers import Server
from tests.web.browser.conftest import PHONE, Contexts, expect, sign_in
from tests.web.conftest import Team

# The elements reaching past a phone's width (what to fix when the page scrolls sideways).
WIDER_THAN_PHONE = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)
  .slice(0, 10)
"""


async def test_owner_creates_a_token_and_uses_it_against_the_api(
    page: Page, team: Team, live: Server, factory: Factory
) -> None:
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Website")
    await sign_in(page, team.owner.email)
    await page.get_by_role("link", name="API tokens").click()
    await expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()

    await page.get_by_role("button", name="Create token").click()
    await expect(page.get_by_text("The name field is required.")).to_be_visible()
    await expect(page.get_by_label("Token name")).to_be_focused()

    await page.get_by_label("Token name").fill("Shop backend")
    await page.get_by_label("contacts.read").check()
    await page.get_by_label("contacts.create").check()
    await page.get_by_label("Rate limit (requests)").fill("100")
    await page.get_by_role("button", name="Create token").click()

    secret = page.get_by_label("New API token")
    await expect(secret).to_be_visible()
    plaintext = await secret.input_value()
    assert len(plaintext) > 20
    await page.get_by_role("button", name="Copy").click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    # The list beside it already shows the new token (out-of-band swap), by prefix only.
    row = page.get_by_role("row").filter(has_text="Shop backend")
    await expect(row).to_contain_text(plaintext[:10])
    await expect(row).to_contain_text("contacts.create")

    async with httpx.AsyncClient(base_url=live.url) as api:
        auth = {"Authorization": f"Bearer {plaintext}"}
        created = await api.post(
            "/api/v1/acme/contacts",
            json={
                "firstname": "Ada",
                "lastname": "Lovelace",
                "phone": "+14155552671",
                "type": "lead",
                "status_id": status.id,
                "source_id": source.id,
            },
            headers=auth,
        )
        assert created.status_code in (200, 201), created.text
        listed = await api.get("/api/v1/acme/contacts", headers=auth)
        assert listed.status_code == 200
        assert [c["firstname"] for c in listed.json()["data"]["data"]] == ["Ada"]
        assert (await api.get("/api/v1/acme/statuses", headers=auth)).status_code == 403

        # Revoked in the page, refused by the API.
        await page.get_by_role("link", name="Done").click()
        page.once("dialog", lambda dialog: dialog.accept())
        await page.get_by_role("button", name="Revoke Shop backend").click()
        await expect(page.get_by_text("Token Shop backend revoked.")).to_be_visible()
        await expect(page.get_by_role("row").filter(has_text="Shop backend")).to_contain_text(
            "Revoked"
        )
        assert (await api.get("/api/v1/acme/contacts", headers=auth)).status_code == 401
    # Last used is shown now.
    await expect(page.get_by_role("row").filter(has_text="Shop backend")).not_to_contain_text(
        "Never"
    )


async def test_tokens_page_on_a_phone(people: Contexts, team: Team) -> None:
    page = await people.new(viewport=PHONE)
    await page.goto("/app/login?next=/app/acme/settings/tokens")
    await page.get_by_label("Email").fill(team.admin.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_label("Token name")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    wide = await page.evaluate(WIDER_THAN_PHONE)
    assert width <= PHONE["width"], wide
