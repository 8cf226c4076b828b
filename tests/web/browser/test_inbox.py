"""The team inbox in a real browser, two agents in two browser contexts against a real server:
a customer's message appears live in both lists, a reply's ticks move to read, an assignment
shows up live for the other agent, the closed care window sends a template instead, a failed send
shows Meta's reason and its timeline, a crashed server shows "Reconnecting…" and the page catches
up after its restart. Background work (the inbound queue, the sandbox's
statuses) is run by the test's own worker on the same database (``drain``); the server's
stream picks the events up from the database like any other process's."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta

import httpx
from fastapi import FastAPI
from playwright.async_api import Page
from sqlalchemy import select, update

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.factories import Factory
from tests.servers import start_server, stop, wait_until_healthy
from tests.web.browser.conftest import Contexts, expect, sign_in
from tests.web.conftest import Team
from xobito.kit.time import utcnow
from xobito.models import Chat, Message
from xobito.template.service import TemplateService

ANN = "+14155550801"
# The page's EventSource (kept by htmx's SSE extension on the sse-connect element) is open.
STREAM_OPEN = """() => {
  const el = document.querySelector("[sse-connect]");
  const source = el && el["htmx-internal-data"] && el["htmx-internal-data"].sseEventSource;
  return !!source && source.readyState === EventSource.OPEN;
}"""
BROKEN = "+14155550000"


class Customer:
    """A customer writing through the sandbox (a Meta-shaped webhook into the inbound queue),
    stored by the test's worker."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        self.app, self.client, self.admin = app, client, admin

    async def writes(self, subdomain: str, phone: str, text: str, name: str) -> None:
        r = await self.client.post(
            f"/api/admin/workspaces/{subdomain}/sandbox/inbound",
            json={"phone_number": phone, "text": text, "profile_name": name},
            headers=self.admin,
        )
        assert r.status_code == 202, r.text
        await self.app.state.worker.drain()

    async def chat_id(self, workspace_id: int) -> int:
        async with self.app.state.sessionmaker() as s:
            found = await s.scalar(
                select(Chat.id).where(Chat.workspace_id == workspace_id).order_by(Chat.id.desc())
            )
        assert found is not None
        return int(found)


async def agents(people: Contexts, *emails: str) -> list[Page]:
    pages = []
    for email in emails:
        page = await people.new()
        await sign_in(page, email)
        await page.goto("/app/acme/inbox")
        await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
        pages.append(page)
    return pages


async def test_a_customer_message_appears_live_for_both_agents_and_the_reply_gets_read(
    people: Contexts,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    one, two = await agents(people, team.agent.email, team.admin.email)
    for page in (one, two):
        await expect(page.get_by_text("No conversations here yet.")).to_be_visible()
    customer = Customer(app, client, admin_headers)
    await customer.writes("acme", ANN, "Is my parcel on its way?", "Ann Able")

    # No reload: both lists show it (the stream's event makes the list refetch itself).
    for page in (one, two):
        item = page.get_by_role("link", name="Ann Able")
        await expect(item).to_be_visible()
        await expect(item).to_contain_text("Is my parcel on its way?")
        await expect(item).to_contain_text("1 unread")

    await one.get_by_role("link", name="Ann Able").click()
    await expect(one.get_by_role("heading", name="Ann Able")).to_be_visible()
    await expect(one.locator("#thread-messages")).to_contain_text("Is my parcel on its way?")
    await one.get_by_label("Message", exact=True).fill("Yes, it arrives tomorrow.")
    await one.get_by_role("button", name="Send", exact=True).click()
    mine = one.locator(".bubble-outbound").filter(has_text="Yes, it arrives tomorrow.")
    await expect(mine).to_be_visible()
    await expect(one.get_by_label("Message", exact=True)).to_have_value("")

    await app.state.worker.drain()  # the sandbox's sent, delivered, read webhooks
    await expect(mine.get_by_title("Read")).to_be_visible()
    # The other agent's list follows too: the preview is the answer, unread is gone.
    item = two.get_by_role("link", name="Ann Able")
    await expect(item).to_contain_text("You: Yes, it arrives tomorrow.")
    await expect(item).not_to_contain_text("unread")


async def test_assigning_to_another_agent_shows_up_live_for_them(
    people: Contexts,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    customer = Customer(app, client, admin_headers)
    await customer.writes("acme", ANN, "Can someone call me?", "Ann Able")
    one, two = await agents(people, team.agent.email, team.admin.email)
    await two.get_by_role("link", name="Mine").click()
    await expect(two.get_by_text("No conversations here yet.")).to_be_visible()

    await one.get_by_role("link", name="Ann Able").click()
    await one.get_by_label("Assignee").select_option(label="Adam Admin")
    await one.get_by_role("button", name="Assign", exact=True).click()
    await expect(one.locator("#thread-header")).to_contain_text("Assigned to Adam Admin")

    item = two.get_by_role("link", name="Ann Able")  # in Adam's "Mine", without a reload
    await expect(item).to_be_visible()
    await expect(item).to_contain_text("Assigned to Adam Admin")
    await item.click()
    await expect(two.locator("#thread-header")).to_contain_text("Assigned to Adam Admin")
    await expect(two.get_by_label("Assignee")).to_have_value(str(team.admin.id))
    # Adam hands it back; Agnes's open conversation header follows live.
    await two.get_by_label("Assignee").select_option(label="Unassigned")
    await two.get_by_role("button", name="Assign", exact=True).click()
    await expect(one.locator("#thread-header")).to_contain_text("Unassigned")


async def test_a_closed_care_window_disables_the_composer_and_a_template_is_sent(
    page: Page,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
) -> None:
    customer = Customer(app, client, admin_headers)
    await customer.writes("acme", ANN, "Hello", "Ann Able")
    chat_id = await customer.chat_id(team.a.workspace.id)
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(Chat)
            .where(Chat.id == chat_id)
            .values(last_inbound_at=utcnow() - timedelta(hours=25))
        )
        await TemplateService(s, team.a.workspace.id).sync(app.state.providers)
        await s.commit()
    await sign_in(page, team.agent.email)
    await page.goto(f"/app/acme/inbox/{chat_id}")
    box = page.get_by_label("Message", exact=True)
    await expect(box).to_be_disabled()
    await expect(page.locator("#window-closed")).to_contain_text(
        "The 24-hour customer care window is closed"
    )
    form = page.get_by_role("form", name="Template order_update (en_US)")
    await expect(form).to_be_visible()
    await form.get_by_label("Variable 2").fill("#4521")
    await expect(form.get_by_text("Hi Ann Able, your order #4521 is on its way.")).to_be_visible()
    await form.get_by_label("Button “Track” link variable").fill("4521")
    await form.get_by_role("button", name="Send template").click()
    bubble = page.locator(".bubble-outbound").filter(has_text="Template order_update")
    await expect(bubble).to_be_visible()
    await expect(bubble).to_contain_text("#4521")
    async with app.state.sessionmaker() as s:
        sent = await s.scalar(
            select(Message.type).where(Message.chat_id == chat_id, Message.direction == "outbound")
        )
    assert sent == "template"


async def test_a_failed_send_shows_meta_reason_and_its_timeline(
    page: Page,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    factory: Factory,
) -> None:
    customer = Customer(app, client, admin_headers)
    await customer.writes("acme", BROKEN, "Hello?", "Bo Broken")
    await sign_in(page, team.agent.email)
    await page.goto("/app/acme/inbox")
    await page.get_by_role("link", name="Bo Broken").click()
    await page.get_by_label("Message", exact=True).fill("Are you there?")
    await page.get_by_role("button", name="Send", exact=True).click()
    failed = page.locator(".bubble-failed").filter(has_text="Are you there?")
    await expect(failed).to_be_visible()
    alert = failed.get_by_role("alert")
    await expect(alert).to_contain_text("131026")
    await expect(alert).to_contain_text("WhatsApp could not deliver the message")
    await expect(failed.get_by_role("button", name="Retry")).to_be_visible()

    await failed.get_by_role("link", name="Timeline").click()
    await expect(page.get_by_role("heading", name="Timeline of message")).to_be_visible()
    await expect(page.get_by_text("Sent by Agnes Agent from the dashboard")).to_be_visible()
    await expect(page.get_by_text("Meta refused it (HTTP 400)")).to_be_visible()
    await page.get_by_role("link", name="Back to the conversation with Bo Broken").click()
    await expect(page.get_by_role("heading", name="Bo Broken")).to_be_visible()


async def test_a_crashed_server_shows_reconnecting_and_the_page_catches_up_after_restart(
    people: Contexts,
    team: Team,
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    backend: Backend,
) -> None:
    (page,) = await agents(people, team.agent.email)  # signed in (cookies ignore the port)
    env = {"XOBITO_AUTH_CACHE_SECONDS": "0", "XOBITO_PASSWORD_HASHING": "fast"}
    with tempfile.TemporaryDirectory(prefix="xobito-server-") as workdir:
        own = start_server(backend, ADMIN_KEY, workdir, env)
        again = None
        try:
            await asyncio.to_thread(wait_until_healthy, own)
            await page.goto(f"{own.url}/app/acme/inbox")
            status = page.locator("#live-status")
            await expect(page.get_by_text("No conversations here yet.")).to_be_visible()
            await page.wait_for_function(STREAM_OPEN)
            await expect(status).to_be_hidden()

            own.process.kill()  # the stream drops; reconnecting fails while it is down
            await asyncio.to_thread(own.process.wait)
            await expect(status).to_be_visible()
            await expect(status).to_have_text("Reconnecting…")

            # Meanwhile a customer writes. A new server on the same address: the page's
            # stream resumes from the last event it saw (read from the database) and the
            # conversation appears without a reload.
            customer = Customer(app, client, admin_headers)
            await customer.writes("acme", ANN, "Anyone there?", "Ann Able")
            port = int(own.url.rsplit(":", 1)[1])
            again = start_server(backend, ADMIN_KEY, workdir, env, port=port)
            await asyncio.to_thread(wait_until_healthy, again)
            await expect(status).to_be_hidden(timeout=30_000)
            await expect(page.get_by_role("link", name="Ann Able")).to_be_visible()
        finally:
            stop(own)
            if again is not None:
                stop(again)
