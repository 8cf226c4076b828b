"""The Settings and Activity pages under axe-core: no serious or critical violations, on a
desktop and on a phone-sized screen (where nothing may scroll sideways)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.web.browser.conftest import DESKTOP, PHONE, Contexts, axe_violations, expect, sign_in
from tests.web.conftest import Team
from xobito.chat.canned import CannedReplyService
from xobito.webhook.service import WebhookService

PAGES = (
    ("/settings/tokens", "API tokens"),
    ("/settings/webhooks", "Webhooks"),
    ("/settings/webhooks/meta", "Webhooks"),
    ("/settings/whatsapp", "WhatsApp"),
    ("/settings/team", "Team"),
    ("/settings/inbox", "Inbox"),
    ("/activity", "Activity"),
)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_settings_pages_pass_axe(
    people: Contexts, team: Team, app: FastAPI, viewport: dict[str, int]
) -> None:
    async with app.state.sessionmaker() as s:
        endpoint, _ = await WebhookService(s, team.a.workspace.id, app.state.settings).create(
            {"url": "http://127.0.0.1:9/hook"}
        )
        reply = await CannedReplyService(s, team.a.workspace.id).create(
            {"shortcut": "hours", "body": "We open at 9."}
        )
        await s.commit()
    page = await people.new(viewport=DESKTOP, bypass_csp=True)
    await sign_in(page, team.owner.email)
    await page.set_viewport_size(viewport)
    records = (
        (f"/settings/webhooks/{endpoint.id}", "http://127.0.0.1:9/hook"),
        (f"/settings/inbox/replies/{reply.id}", "Saved reply /hours"),
    )
    for path, heading in (*PAGES, *records):
        await page.goto(f"/app/acme{path}")
        await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        assert await axe_violations(page) == [], path
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], path
