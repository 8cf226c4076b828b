"""``GET /messages/{messageId}/timeline`` and ``xobito message timeline``: who created a
message, Meta's request and answer, each status webhook, each outbound webhook attempt."""

from __future__ import annotations

from tests.chat.conftest import Inbox
from tests.factories import Factory
from tests.webhook.conftest import Hooks

ALICE = "+14155550101"
FAILS = "+14155550000"  # the sandbox refuses numbers ending 0000 (Meta's 131026)


async def test_a_sent_message_from_request_to_read_with_webhook_attempts(
    inbox: Inbox, factory: Factory, hooks: Hooks
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/t", events=["message.sent", "message.read"])
    await inbox.inbound(t, ALICE)
    r = await inbox.send(t, ALICE, "Your order shipped")
    wamid = r.json()["data"]["message_id"]
    await hooks.deliver()
    r = await inbox.get(t, f"/messages/{wamid}/timeline")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["message"]["message_id"] == wamid and data["message"]["status"] == "read"
    kinds = [e["kind"] for e in data["entries"]]
    assert kinds[:3] == ["created", "graph_request", "graph_response"]
    created, request, response = data["entries"][:3]
    assert created["summary"] == "Requested through the API with the token 'test'"
    assert request["detail"]["method"] == "POST"
    assert request["detail"]["body"]["text"]["body"] == "Your order shipped"
    assert request["detail"]["body"]["to"] == ALICE.lstrip("+")
    assert response["detail"]["http_status"] == 200
    assert response["detail"]["body"]["messages"] == [{"id": wamid}]
    statuses = [e for e in data["entries"] if e["kind"] == "status"]
    assert [e["summary"] for e in statuses] == [
        "Meta reported sent (ignored: a duplicate or out of order)",
        "Meta reported delivered",
        "Meta reported read",
    ]
    assert statuses[1]["detail"]["payload"]["id"] == wamid  # Meta's status object, raw
    webhooks = [e for e in data["entries"] if e["kind"] == "webhook"]
    assert [(e["detail"]["event"], e["detail"]["status_code"]) for e in webhooks] == [
        ("message.sent", 200),
        ("message.read", 200),
    ]
    assert webhooks[0]["detail"]["url"].endswith("/t")
    ats = [e["at"] for e in data["entries"]]
    assert ats == sorted(ats)


async def test_a_refused_send_by_its_id_with_meta_reason(inbox: Inbox, factory: Factory) -> None:
    t = await factory.tenant(enforce_care_window=False)
    r = await inbox.send(t, FAILS, "Hello?")
    assert r.status_code == 500
    (chat,) = await inbox.chats(t)
    failed = chat["last_message"]
    assert failed["status"] == "failed" and failed["message_id"] is None
    assert failed["error_code"] == 131026
    assert failed["error_reason"].startswith("WhatsApp could not deliver the message")
    r = await inbox.get(t, f"/messages/{failed['id']}/timeline")
    assert r.status_code == 200, r.text
    entries = r.json()["data"]["entries"]
    assert [e["kind"] for e in entries] == ["created", "graph_request", "graph_response"]
    assert entries[2]["summary"].startswith(
        "Meta refused it (HTTP 400): 131026: Message undeliverable. WhatsApp could not deliver"
    )
    assert entries[2]["detail"]["http_status"] == 400


async def test_an_inbound_message_keeps_meta_webhook(inbox: Inbox, factory: Factory) -> None:
    t = await factory.tenant()
    wamid = await inbox.inbound(t, ALICE, "Hi", name="Grace")
    r = await inbox.get(t, f"/messages/{wamid}/timeline")
    (entry,) = r.json()["data"]["entries"]
    assert entry["kind"] == "received"
    assert entry["summary"] == "Received from Grace through Meta's webhook"
    assert entry["detail"]["webhook"]["id"] == wamid
    assert entry["detail"]["webhook"]["text"] == {"body": "Hi"}


async def test_workspace_b_gets_404_and_the_ability_is_messages_send(
    inbox: Inbox, factory: Factory
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    wamid = await inbox.inbound(a, ALICE)
    (chat,) = await inbox.chats(a)
    own_id = chat["last_message"]["id"]
    for key in (wamid, str(own_id)):
        r = await inbox.get(b, f"/messages/{key}/timeline")
        assert (r.status_code, r.json()) == (
            404,
            {"status": "error", "message": "Message not found"},
        )
    reader = await factory.tenant(abilities=["chats.read"])
    r = await inbox.get(reader, f"/messages/{wamid}/timeline")
    assert r.status_code == 403
    assert r.json()["message"] == "Token does not have the required ability: messages.send"
