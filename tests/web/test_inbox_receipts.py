"""Read receipts: opening a conversation with unread messages tells Meta (the fake Graph,
over HTTP, validating the body) the newest customer message was read, only when Settings →
Inbox turns it on; saved replies managed in Settings; a reply quoting the customer."""

from __future__ import annotations

import orjson
from fastapi import FastAPI
from sqlalchemy import select

from tests.message.conftest import Messaging, cloud, fake_graph, fake_graph_server, messaging
from tests.web.conftest import MakeClient, Team, WebClient, field_errors, soup, texts
from tests.web.test_inbox_media import connect_cloud
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import EVERYONE
from xobito.models import CannedReply, Message
from xobito.testing import meta_schema
from xobito.testing.fake_graph import FakeGraphServer
from xobito.whatsapp.sandbox import new_wamid
from xobito.whatsapp.webhooks import inbound_payload

__all__ = ["cloud", "fake_graph", "fake_graph_server", "messaging"]  # fixtures used here

ALICE = "+14155550701"


async def writes(
    app: FastAPI, body: dict[str, object], text: str, phone: str = ALICE
) -> tuple[int, str]:
    """A customer's text through a Meta-shaped webhook; (chat id, wamid)."""
    numbers = body["phone_number_ids"]
    assert isinstance(numbers, list)
    wamid = new_wamid()
    payload = inbound_payload(
        waba_id=str(body["waba_id"]), phone_number_id=numbers[0], wamid=wamid,
        wa_id=phone.lstrip("+"), profile_name="Alice", text=text,
    )  # fmt: skip
    async with app.state.sessionmaker() as s:
        await InboxRepository(s).add(orjson.dumps(payload), EVERYONE)
        await s.commit()
    await app.state.worker.drain()
    async with app.state.sessionmaker() as s:
        chat_id = await s.scalar(select(Message.chat_id).where(Message.wamid == wamid))
    assert chat_id is not None
    return int(chat_id), wamid


async def test_read_receipts_off_by_default_then_on_once_per_unread(
    app: FastAPI, signed_in: object, team: Team, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    body = await connect_cloud(messaging, "acme")
    number = body["phone_number_ids"][0]  # type: ignore[index]
    chat_id, first = await writes(app, body, "Hello?")
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    assert (await agent.get(f"/app/acme/inbox/{chat_id}")).status_code == 200
    assert cloud.read_receipts == []  # off: nothing told to Meta (the unread is cleared)

    admin: WebClient = await signed_in("admin")  # type: ignore[operator]
    page = soup(await admin.get("/app/acme/settings/inbox"))
    assert page.select_one("#f-send_read_receipts").get("checked") is None
    r = await admin.post("/app/acme/settings/inbox", {"send_read_receipts": "1"})
    assert r.status_code == 303
    page = soup(await admin.get("/app/acme/settings/inbox"))
    assert page.select_one("#f-send_read_receipts").has_attr("checked")
    assert "Read receipts are on." in page.get_text()  # the flash

    _, second = await writes(app, body, "Anyone there?")
    r = await agent.get(f"/app/acme/inbox/{chat_id}")
    assert r.status_code == 200
    assert cloud.read_receipts == [(number, second)]  # the newest: Meta marks the rest
    sent = [q.json for q in cloud.requests_to("messages")]
    assert sent == [{"messaging_product": "whatsapp", "status": "read", "message_id": second}]
    assert cloud.schema_violations == []
    # Nothing unread any more: the page and its live refetches tell Meta nothing again.
    await agent.get(f"/app/acme/inbox/{chat_id}")
    await agent.get(f"/app/acme/inbox/{chat_id}/messages", htmx=True)
    assert len(cloud.read_receipts) == 1
    # Meta refusing the receipt never breaks the page.
    await writes(app, body, "Hello again")
    cloud.fail_next(code=100, endpoint="messages")  # not retried: a 400
    before = len(cloud.requests_to("messages"))
    r = await agent.get(f"/app/acme/inbox/{chat_id}")
    assert r.status_code == 200 and "Hello again" in r.text
    assert len(cloud.requests_to("messages")) == before + 1  # it was asked, and refused
    assert len(cloud.read_receipts) == 1 and first not in [w for _, w in cloud.read_receipts]

    r = await admin.post("/app/acme/settings/inbox", {"send_read_receipts": "0"})
    await writes(app, body, "Last one")
    await agent.get(f"/app/acme/inbox/{chat_id}")
    assert len(cloud.read_receipts) == 1
    # Agents do not change settings.
    r = await agent.post("/app/acme/settings/inbox", {"send_read_receipts": "1"})
    assert r.status_code == 403


def test_the_fakes_read_receipt_schema_is_metas_example() -> None:
    example = meta_schema.message_request_examples()[meta_schema.READ_RECEIPT_EXAMPLE]
    assert meta_schema.is_read_receipt(example)
    assert meta_schema.validate_read_receipt(example) == []
    good = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    assert meta_schema.validate_read_receipt(good) == []
    for bad in (
        {"messaging_product": "whatsapp", "status": "read"},
        {**good, "status": "delivered"},
        {**good, "messaging_product": "sms"},
        {**good, "extra": 1},
    ):
        assert meta_schema.validate_read_receipt(bad), bad


async def test_saved_replies_are_managed_by_admins_per_workspace(
    app: FastAPI, signed_in: object, browser: MakeClient, team: Team
) -> None:
    admin: WebClient = await signed_in("admin")  # type: ignore[operator]
    r = await admin.post(
        "/app/acme/settings/inbox/replies", {"shortcut": "/Hours", "body": "We open at 9."}
    )
    assert r.status_code == 303
    page = soup(await admin.get("/app/acme/settings/inbox"))
    assert texts(page, "tbody tr") == ["/hours We open at 9. Edit Delete"]
    for shortcut, body, field, message in (
        ("hours", "Again", "Shortcut", "The shortcut has already been taken."),
        ("two words", "x", "Shortcut", "The shortcut may only contain letters, numbers, dashes"),
        ("", "x", "Shortcut", "The shortcut field is required."),
        ("ok", "", "Text", "The text field is required."),
    ):
        data = {"shortcut": shortcut, "body": body}
        r = await admin.post("/app/acme/settings/inbox/replies", data)
        assert r.status_code == 422
        assert any(message in e for e in field_errors(soup(r), field)), (shortcut, body)
    async with app.state.sessionmaker() as s:
        reply = await s.scalar(select(CannedReply))
    assert reply is not None and reply.shortcut == "hours"
    r = await admin.post(
        f"/app/acme/settings/inbox/replies/{reply.id}", {"shortcut": "open", "body": "9 to 5."}
    )
    assert r.status_code == 303
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    assert (await agent.get(f"/app/acme/settings/inbox/replies/{reply.id}")).status_code == 403
    globex = await browser()
    await globex.sign_in(team.b_owner.email)
    assert (await globex.get(f"/app/globex/settings/inbox/replies/{reply.id}")).status_code == 404
    r = await globex.post(f"/app/globex/settings/inbox/replies/{reply.id}/delete", {})
    assert r.status_code == 404
    r = await admin.post(f"/app/acme/settings/inbox/replies/{reply.id}/delete", {})
    assert r.status_code == 303
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(CannedReply)) is None


async def test_a_reply_quotes_the_customers_message_at_meta_and_in_the_thread(
    app: FastAPI, signed_in: object, team: Team, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    body = await connect_cloud(messaging, "acme")
    chat_id, wamid = await writes(app, body, "Which size fits me?")
    async with app.state.sessionmaker() as s:
        quoted = await s.scalar(select(Message.id).where(Message.wamid == wamid))
    agent: WebClient = await signed_in("agent")  # type: ignore[operator]
    page = soup(await agent.get(f"/app/acme/inbox/{chat_id}"))
    assert page.select_one(f"[data-reply-to='{quoted}']") is not None
    r = await agent.post(
        f"/app/acme/inbox/{chat_id}/send",
        {"kind": "text", "message_body": "Size M.", "reply_to": str(quoted)},
        htmx=True,
    )
    assert r.status_code == 200, r.text
    (sent,) = [q.json for q in cloud.requests_to("messages")]
    assert sent["context"] == {"message_id": wamid} and sent["text"]["body"] == "Size M."
    assert cloud.schema_violations == []
    page = soup(await agent.get(f"/app/acme/inbox/{chat_id}"))
    (mine,) = page.select(".bubble-outbound")
    quote = mine.select_one("blockquote.quote")
    assert quote is not None and quote.get_text(strip=True) == "Which size fits me?"
    # A message of another conversation cannot be quoted.
    other, _ = await writes(app, body, "Hi", "+14155550702")
    r = await agent.post(
        f"/app/acme/inbox/{other}/send",
        {"kind": "text", "message_body": "x", "reply_to": str(quoted)},
    )
    assert r.status_code == 404
