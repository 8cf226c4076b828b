"""Settings → WhatsApp in a real browser: "Check connection" tells, in plain words, that
Meta's webhooks fail the signature check because the stored app secret is wrong."""

from __future__ import annotations

import httpx
import orjson
from playwright.async_api import Page

from tests.connection.conftest import Doctor, cloud, doctor, fake_graph, messaging
from tests.factories import Factory
from tests.servers import Server
from tests.web.browser.conftest import expect, sign_in
from xobito.testing.meta_webhooks import (
    SIGNATURE_HEADER,
    StatusUpdate,
    build_status_webhook,
    sign_payload,
)

__all__ = ["cloud", "doctor", "fake_graph", "messaging"]


async def test_the_doctor_reports_a_wrong_app_secret(
    page: Page, doctor: Doctor, factory: Factory, live: Server
) -> None:
    ct = await doctor.healthy()  # a cloud connection Meta (the fake) knows all about
    owner = await factory.user(ct.tenant.workspace, "owner", "wa-owner@example.com")
    await sign_in(page, owner.email)
    await page.get_by_role("link", name="WhatsApp").click()
    await expect(page.get_by_role("heading", name="WhatsApp", exact=True)).to_be_visible()
    await expect(page.get_by_text("Shown after “Check connection”")).to_be_visible()

    # Meta signs its webhooks with the app's real secret, which is not the one stored.
    async with httpx.AsyncClient(base_url=live.url) as meta:
        for n in range(3):
            body = orjson.dumps(
                build_status_webhook(
                    [StatusUpdate(f"wamid.browser{n}", "delivered", "14155550100")],
                    phone_number_id=ct.number,
                )
            )
            r = await meta.post(
                "/webhooks/whatsapp",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign_payload(body, "the-secret-meta-really-uses"),
                },
            )
            assert r.status_code == 401

    await page.get_by_role("link", name="Check connection").click()
    doctor_region = page.locator("#doctor")
    finding = doctor_region.get_by_role("listitem").filter(
        has_text="Webhooks fail the signature check: the app secret is wrong"
    )
    await expect(finding).to_be_visible()
    await expect(finding).to_contain_text("Problem")
    await expect(finding).to_contain_text("3 webhooks from Meta")
    await expect(finding).to_contain_text("What to do:")
    await expect(doctor_region.get_by_text("1 problem", exact=False)).to_be_visible()
    await expect(
        doctor_region.get_by_role("listitem").filter(has_text="Meta accepted the access token")
    ).to_contain_text("Working")
    assert page.url.endswith("/settings/whatsapp")  # htmx swapped the region in place
