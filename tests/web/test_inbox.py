"""The inbox pages through the ASGI app: list, filters, search, a conversation (ticks,
Meta's reason, timeline), sending, notes, assignment, the closed window, and isolation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.factories import Tenant
from tests.web.conftest import Team, WebClient, main_text, soup, texts
from xobito.kit.time import utcnow
from xobito.models import Chat, Message

ALICE = "+14155550701"
BROKEN = "+14155550000"


class Customers:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]) -> None:
        self.app, self.client, self.admin = app, client, admin

    async def write(self, t: Tenant, phone: str, text: str, name: str = "Alice <b>") -> None:
        r = await self.client.post(
            f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound",
            json={"phone_number": phone, "text": text, "profile_name": name},
            headers=self.admin,
        )
        assert r.status_code == 202, r.text
        await self.app.state.worker.drain()

    async def chat_id(self, t: Tenant, phone: str = ALICE) -> int:
        async with self.app.state.sessionmaker() as s:
            chat = await s.scalar(
                select(Chat.id).where(Chat.workspace_id == t.workspace.id).order_by(Chat.id.desc())
            )
            assert chat is not None
            return int(chat)


@pytest.fixture
def customers(app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]) -> Customers:
    return Customers(app, client, admin_headers)


async def test_the_list_shows_conversations_and_opening_clears_unread(
    signed_in: object, team: Team, customers: Customers
) -> None:
    await customers.write(team.a, ALICE, "Where is my order? https://example.com/o/1")
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    r = await agent.get("/app/acme/inbox")
    assert r.status_code == 200, r.text
    page = soup(r)
    (item,) = texts(page, ".conversation")
    assert "Alice <b>" in item and ALICE in item and "1 unread" in item and "Unassigned" in item
    assert "<b>" not in r.text.replace("&lt;b&gt;", "")  # the name is text, not markup
    chat_id = await customers.chat_id(team.a)
    r = await agent.get(f"/app/acme/inbox/{chat_id}")
    assert r.status_code == 200, r.text
    page = soup(r)
    assert "Where is my order?" in main_text(page)
    link = page.select_one(".bubble-inbound a[href='https://example.com/o/1']")
    assert link is not None and link.get("rel") == ["noopener", "noreferrer", "nofollow"]
    assert "Customer care window open: 23 h" in main_text(page)
    r = await agent.get("/app/acme/inbox/list", htmx=True)
    assert "unread" not in " ".join(texts(soup(r), ".conversation"))


async def test_answer_note_assign_resolve_and_filters(
    signed_in: object, team: Team, customers: Customers
) -> None:
    await customers.write(team.a, ALICE, "Hello")
    chat_id = await customers.chat_id(team.a)
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    await agent.get(f"/app/acme/inbox/{chat_id}")
    r = await agent.post(
        f"/app/acme/inbox/{chat_id}/send", {"kind": "text", "message_body": "Hi Alice!"}, htmx=True
    )
    assert r.status_code == 200, r.text
    assert r.headers["HX-Trigger"] == "inbox-refresh"
    r = await agent.post(
        f"/app/acme/inbox/{chat_id}/send", {"kind": "note", "note": "VIP customer"}, htmx=True
    )
    assert r.status_code == 200
    await customers.app.state.worker.drain()  # the sandbox's delivery statuses
    page = soup(await agent.get(f"/app/acme/inbox/{chat_id}/messages", htmx=True))
    bubbles = texts(page, ".bubble")
    assert "Hi Alice!" in bubbles[1] and "Read" in bubbles[1] and "Agnes Agent" in bubbles[1]
    assert "Internal note" in bubbles[2] and "VIP customer" in bubbles[2]
    r = await agent.post(
        f"/app/acme/inbox/{chat_id}/send", {"kind": "note", "note": " "}, htmx=True
    )
    assert r.status_code == 422 and "The note field is required." in r.text

    r = await agent.post(f"/app/acme/inbox/{chat_id}/assign", {"user_id": "me"}, htmx=True)
    assert "Assigned to Agnes Agent" in r.text
    mine = texts(soup(await agent.get("/app/acme/inbox?view=mine")), ".conversation")
    assert len(mine) == 1
    assert texts(soup(await agent.get("/app/acme/inbox?view=unassigned")), ".conversation") == []
    await agent.post(f"/app/acme/inbox/{chat_id}/resolve", {}, htmx=True)
    assert len(texts(soup(await agent.get("/app/acme/inbox?view=resolved")), ".conversation")) == 1
    assert texts(soup(await agent.get("/app/acme/inbox?view=mine")), ".conversation") == []
    found = texts(soup(await agent.get("/app/acme/inbox?q=Hello")), ".conversation")
    assert len(found) == 1
    assert (
        texts(soup(await agent.get("/app/acme/inbox?q=nothing-like-this")), ".conversation") == []
    )


async def test_closed_window_disables_text_and_offers_templates(
    signed_in: object, team: Team, customers: Customers, app: FastAPI
) -> None:
    await customers.write(team.a, ALICE, "Hello")
    chat_id = await customers.chat_id(team.a)
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(Chat)
            .where(Chat.id == chat_id)
            .values(last_inbound_at=utcnow() - timedelta(hours=25))
        )
        await s.commit()
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    r = await agent.get(f"/app/acme/inbox/{chat_id}")
    page = soup(r)
    box = page.select_one("#message-body")
    assert box is not None and box.has_attr("disabled")
    assert "The 24-hour customer care window is closed" in main_text(page)
    r = await agent.post(
        f"/app/acme/inbox/{chat_id}/send", {"kind": "text", "message_body": "Hi"}, htmx=True
    )
    assert r.status_code == 422
    assert "The 24-hour customer care window is closed for this recipient." in r.text


async def test_failed_send_shows_meta_reason_retry_and_timeline(
    signed_in: object, team: Team, customers: Customers, app: FastAPI
) -> None:
    await customers.write(team.a, BROKEN, "Hello")
    chat_id = await customers.chat_id(team.a, BROKEN)
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    await agent.get(f"/app/acme/inbox/{chat_id}")
    r = await agent.post(
        f"/app/acme/inbox/{chat_id}/send",
        {"kind": "text", "message_body": "Are you there?"},
        htmx=True,
    )
    assert "Meta refused the message: 131026: Message undeliverable" in r.text
    page = soup(await agent.get(f"/app/acme/inbox/{chat_id}"))
    failure = " ".join(texts(page, ".failure"))
    assert "Meta error 131026: Message undeliverable" in failure
    assert failure.count("131026") == 1  # the code once, not again from the stored reason
    assert "WhatsApp could not deliver the message" in failure
    async with app.state.sessionmaker() as s:
        failed_id = await s.scalar(
            select(Message.id).where(Message.chat_id == chat_id, Message.status == "failed")
        )
    r = await agent.post(f"/app/acme/inbox/{chat_id}/messages/{failed_id}/retry", {})
    assert r.status_code == 303
    async with app.state.sessionmaker() as s:
        count = len(
            (
                await s.scalars(
                    select(Message.id).where(Message.chat_id == chat_id, Message.status == "failed")
                )
            ).all()
        )
    assert count == 2  # really sent again (and refused again by the sandbox)
    r = await agent.get(f"/app/acme/inbox/{chat_id}/messages/{failed_id}/timeline")
    text = main_text(soup(r))
    assert "Sent by Agnes Agent from the dashboard" in text
    assert "Meta refused it (HTTP 400)" in text


async def test_another_workspace_gets_404(
    signed_in: object, team: Team, customers: Customers, browser: object
) -> None:
    await customers.write(team.a, ALICE, "Hello")
    chat_id = await customers.chat_id(team.a)
    outsider: WebClient = await browser()  # type: ignore[operator]
    await outsider.sign_in(team.b_owner.email)
    for path in (
        f"/app/globex/inbox/{chat_id}",
        f"/app/globex/inbox/{chat_id}/messages",
        f"/app/globex/inbox/{chat_id}/header",
        f"/app/acme/inbox/{chat_id}",
        "/app/acme/inbox",
    ):
        r = await outsider.get(path)
        assert r.status_code == 404, path
    r = await outsider.post(f"/app/globex/inbox/{chat_id}/resolve", {})
    assert r.status_code == 404
