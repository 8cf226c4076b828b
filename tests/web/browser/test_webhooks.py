"""Settings → Webhooks in a real browser: add an endpoint, send a test event to a real local
receiver, watch it arrive in the delivery log (the page refreshes its log by itself)."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.async_api import Page

from tests.web.browser.conftest import expect, sign_in
from tests.web.conftest import Team
from tests.web.test_webhooks import deliver
from tests.webhook.conftest import Receiver, _close_dispatcher, receiver, receiver_server
from xobito.webhook.signing import xobito_signature

__all__ = ["_close_dispatcher", "receiver", "receiver_server"]


async def test_owner_adds_an_endpoint_and_sees_a_test_event_delivered(
    page: Page, team: Team, receiver: Receiver, app: FastAPI
) -> None:
    await sign_in(page, team.owner.email)
    await page.get_by_role("link", name="Webhooks").click()
    await expect(page.get_by_role("heading", name="Webhook endpoints")).to_be_visible()

    await page.get_by_label("URL").fill("not a url")
    await page.get_by_role("button", name="Add endpoint").click()
    await expect(page.get_by_text("The url format is invalid.")).to_be_visible()
    await expect(page.get_by_label("URL")).to_be_focused()

    await page.get_by_label("URL").fill(receiver.url("/browser"))
    await page.get_by_label("contacts.created").check()
    await page.get_by_role("button", name="Add endpoint").click()
    secret_box = page.get_by_label("Signing secret")
    await expect(secret_box).to_be_visible()
    secret = await secret_box.input_value()
    assert secret.startswith("whsec_")
    await expect(page.get_by_text("Nothing sent yet.")).to_be_visible()

    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_text("1 delivery waiting to be sent")).to_be_visible()
    await expect(page.get_by_label("Signing secret")).to_have_count(0)  # shown once only

    await deliver(app)  # what the worker does
    hits = receiver.at("/browser")
    assert len(hits) == 1
    assert hits[0].headers["X-Webhook-Signature"] == xobito_signature(hits[0].body, secret)

    # The page notices by itself (no reload): the attempt appears in the log.
    log = page.locator("#delivery-log")
    await expect(log.get_by_text("1 attempt logged")).to_be_visible()
    summary = log.locator("summary").first
    await expect(summary).to_contain_text("200")
    await expect(summary).to_contain_text("webhook.test")
    await summary.click()
    await expect(log.get_by_text("HTTP 200")).to_be_visible()
    await expect(log.get_by_text("This is a test event from Xobito.")).to_be_visible()

    await log.get_by_role("button", name="Redeliver").click()
    await expect(page.get_by_text("queued again for this endpoint")).to_be_visible()
    await deliver(app)
    await expect(log.get_by_text("2 attempts logged")).to_be_visible()
    assert [h.event_id for h in receiver.at("/browser")] == [hits[0].event_id] * 2
