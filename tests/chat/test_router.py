"""``/chats`` (beyond Xobito v1): the list with filters and cursor pages, a conversation's
messages, assign / resolve / reopen, abilities, and workspace isolation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.chat.conftest import Inbox
from tests.factories import Factory
from xobito.models import LiveEvent

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ALICE, BOB, CAROL = "+14155550101", "+14155550102", "+14155550103"


async def live_events(
    app: FastAPI, workspace_id: int
) -> list[tuple[str, dict[str, object] | None]]:
    async with app.state.sessionmaker() as s:
        rows = await s.execute(
            select(LiveEvent.kind, LiveEvent.data)
            .where(LiveEvent.workspace_id == workspace_id)
            .order_by(LiveEvent.id)
        )
        return [(k, d) for k, d in rows.tuples().all()]


async def test_newest_activity_first_with_the_last_message_and_unread(
    inbox: Inbox, factory: Factory
) -> None:
    t = await factory.tenant()
    # Meta's timestamps have whole seconds: a tie is broken by the newer conversation.
    await inbox.inbound(t, BOB, "second", name="Bob")
    await inbox.inbound(t, ALICE, "first", name="Alice")
    await inbox.inbound(t, ALICE, "third", name="Alice")
    r = await inbox.get(t, "/chats")
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["status", "data"]
    page = body["data"]
    assert page["next_cursor"] is None and page["per_page"] == 15
    alice, bob = page["data"]
    assert alice["contact"]["phone"] == ALICE and alice["contact"]["name"] == "Alice"
    assert alice["unread_count"] == 2 and bob["unread_count"] == 1
    assert alice["state"] == "open" and alice["assigned_user"] is None
    assert alice["last_message"]["text"] == "third"
    assert alice["last_message"]["direction"] == "inbound"
    assert alice["last_message"]["sender"] == {
        "type": "customer",
        "id": alice["contact"]["id"],
        "name": "Alice",
    }
    assert TIMESTAMP.match(alice["care_window_ends_at"])
    assert bob["last_message"]["text"] == "second"


async def test_cursor_pages_cover_every_chat_once(inbox: Inbox, factory: Factory) -> None:
    t = await factory.tenant()
    phones = [f"+1415555020{i}" for i in range(5)]
    for phone in phones:
        await inbox.inbound(t, phone)
    seen: list[str] = []
    params: dict[str, object] = {"per_page": 2}
    pages = 0
    while True:
        r = await inbox.get(t, "/chats", **params)
        assert r.status_code == 200, r.text
        page = r.json()["data"]
        pages += 1
        seen += [c["contact"]["phone"] for c in page["data"]]
        if page["next_cursor"] is None:
            assert page["next_page_url"] is None
            break
        assert "cursor=" in page["next_page_url"] and "per_page=2" in page["next_page_url"]
        params = {"per_page": 2, "cursor": page["next_cursor"]}
    assert pages == 3
    assert seen == list(reversed(phones))  # newest first, none twice


async def test_filters(inbox: Inbox, factory: Factory) -> None:
    t = await factory.tenant()
    agent = await factory.user(t.workspace, "agent")
    await inbox.inbound(t, ALICE)
    await inbox.inbound(t, BOB)
    await inbox.inbound(t, CAROL)
    by_phone = {c["contact"]["phone"]: c for c in await inbox.chats(t)}
    a, b, c = by_phone[ALICE]["id"], by_phone[BOB]["id"], by_phone[CAROL]["id"]
    assert (await inbox.post(t, f"/chats/{a}/assign", {"user_id": agent.id})).status_code == 200
    assert (await inbox.post(t, f"/chats/{b}/resolve")).status_code == 200
    await inbox.send(t, CAROL)  # an answer does not clear unread; opening does (dashboard)

    def ids(chats: list[dict[str, object]]) -> set[object]:
        return {ch["id"] for ch in chats}

    assert ids(await inbox.chats(t, assigned=agent.id)) == {a}
    assert ids(await inbox.chats(t, assigned="none")) == {b, c}
    assert ids(await inbox.chats(t, resolved=1)) == {b}
    assert ids(await inbox.chats(t, resolved="false")) == {a, c}
    assert ids(await inbox.chats(t, unread=1)) == {a, b, c}
    assert ids(await inbox.chats(t, unread=0)) == set()
    assert ids(await inbox.chats(t, contact_id=by_phone[BOB]["contact"]["id"])) == {b}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ids(await inbox.chats(t, updated_since=future)) == set()
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert ids(await inbox.chats(t, updated_since=past)) == {a, b, c}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"per_page": 101}, "per_page", "The per page may not be greater than 100."),
        ({"cursor": "not-a-cursor"}, "cursor", "The cursor is invalid."),
        ({"cursor": "eyJ0IjoxfQ"}, "cursor", "The cursor is invalid."),
        ({"assigned": "someone"}, "assigned", "The assigned must be a user id or none."),
        ({"updated_since": "yesterday"}, "updated_since", "The updated since is not a valid date."),
        ({"unread": "maybe"}, "unread", "The unread field must be true or false."),
    ],
)
async def test_bad_list_parameters_are_422(
    inbox: Inbox, factory: Factory, params: dict[str, object], field: str, message: str
) -> None:
    t = await factory.tenant()
    r = await inbox.get(t, "/chats", **params)
    assert r.status_code == 422, r.text
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {field: [message]},
    }


async def test_messages_newest_first_by_cursor_and_since_an_id(
    inbox: Inbox, factory: Factory
) -> None:
    t = await factory.tenant()
    for n in range(3):
        await inbox.inbound(t, ALICE, f"in {n}")
    r = await inbox.send(t, ALICE, "answer")
    assert r.status_code == 200, r.text
    (chat,) = await inbox.chats(t)
    r = await inbox.get(t, f"/chats/{chat['id']}/messages", per_page=2)
    assert r.status_code == 200, r.text
    first = r.json()["data"]
    assert [m["text"] for m in first["data"]] == ["answer", "in 2"]
    answer = first["data"][0]
    assert answer["direction"] == "outbound" and answer["status"] == "read"
    assert answer["sender"] == {"type": "token", "id": t.token_id, "name": "test"}
    assert answer["message_id"] == r.json()["data"]["data"][0]["message_id"]
    r = await inbox.get(t, f"/chats/{chat['id']}/messages", per_page=2, cursor=first["next_cursor"])
    second = r.json()["data"]
    assert [m["text"] for m in second["data"]] == ["in 1", "in 0"]
    assert second["next_cursor"] is None
    oldest = second["data"][-1]["id"]
    r = await inbox.get(t, f"/chats/{chat['id']}/messages", since_id=oldest, per_page=2)
    since = r.json()["data"]
    assert [m["text"] for m in since["data"]] == ["in 1", "in 2"]  # oldest first
    r = await inbox.get(t, f"/chats/{chat['id']}/messages", per_page=2, cursor=since["next_cursor"])
    assert [m["text"] for m in r.json()["data"]["data"]] == ["answer"]


async def test_assign_resolve_reopen(inbox: Inbox, factory: Factory, app: FastAPI) -> None:
    t = await factory.tenant()
    agent = await factory.user(t.workspace, "agent", name="Ada Agent")
    await inbox.inbound(t, ALICE)
    (chat,) = await inbox.chats(t)
    path = f"/chats/{chat['id']}"
    r = await inbox.post(t, f"{path}/assign", {"user_id": agent.id})
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Chat assigned successfully"
    assert r.json()["data"]["assigned_user"] == {"id": agent.id, "name": "Ada Agent"}
    r = await inbox.post(t, f"{path}/resolve")
    assert r.json()["message"] == "Chat resolved successfully"
    assert r.json()["data"]["state"] == "resolved" and TIMESTAMP.match(
        r.json()["data"]["resolved_at"]
    )
    r = await inbox.post(t, f"{path}/reopen")
    assert r.json()["message"] == "Chat reopened successfully"
    assert r.json()["data"]["state"] == "open" and r.json()["data"]["resolved_at"] is None
    r = await inbox.post(t, f"{path}/assign", {"user_id": None})
    assert r.json()["message"] == "Chat unassigned successfully"
    assert r.json()["data"]["assigned_user"] is None
    kinds = [(k, d) for k, d in await live_events(app, t.workspace.id) if k != "message"]
    assert kinds == [
        ("conversation", {"change": "new"}),
        ("assignment", {"user_id": agent.id, "previous": None}),
        ("conversation", {"change": "resolved"}),
        ("conversation", {"change": "reopened"}),
        ("assignment", {"user_id": None, "previous": agent.id}),
    ]
    # Resolving twice changes (and announces) nothing the second time.
    await inbox.post(t, f"{path}/resolve")
    await inbox.post(t, f"{path}/resolve")
    assert [k for k, _ in await live_events(app, t.workspace.id)].count("conversation") == 4


async def test_a_customer_message_reopens(inbox: Inbox, factory: Factory) -> None:
    t = await factory.tenant()
    await inbox.inbound(t, ALICE)
    (chat,) = await inbox.chats(t)
    await inbox.post(t, f"/chats/{chat['id']}/resolve")
    await inbox.inbound(t, ALICE, "again")
    (chat,) = await inbox.chats(t)
    assert chat["state"] == "open"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"user_id": ["The user id field is required."]}),
        ({"user_id": "x"}, {"user_id": ["The user id must be an integer."]}),
        ({"user_id": 999999}, {"user_id": ["The selected user id is invalid."]}),
    ],
)
async def test_assign_validates(
    inbox: Inbox, factory: Factory, body: object, errors: object
) -> None:
    t = await factory.tenant()
    await inbox.inbound(t, ALICE)
    (chat,) = await inbox.chats(t)
    r = await inbox.post(t, f"/chats/{chat['id']}/assign", body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == errors


async def test_assigning_a_member_of_another_workspace_is_refused(
    inbox: Inbox, factory: Factory
) -> None:
    t, other = await factory.tenant(), await factory.tenant()
    outsider = await factory.user(other.workspace, "agent")
    await inbox.inbound(t, ALICE)
    (chat,) = await inbox.chats(t)
    r = await inbox.post(t, f"/chats/{chat['id']}/assign", {"user_id": outsider.id})
    assert r.status_code == 422
    assert r.json()["errors"] == {"user_id": ["The selected user id is invalid."]}


async def test_abilities(inbox: Inbox, factory: Factory) -> None:
    t = await factory.tenant(abilities=["chats.read"])
    await inbox.inbound(t, ALICE)
    (chat,) = await inbox.chats(t)
    r = await inbox.post(t, f"/chats/{chat['id']}/resolve")
    assert r.status_code == 403
    assert r.json()["message"] == "Token does not have the required ability: chats.update"
    reader = await factory.tenant(abilities=["contacts.read"])
    r = await inbox.get(reader, "/chats")
    assert r.status_code == 403
    assert r.json()["message"] == "Token does not have the required ability: chats.read"


async def test_workspace_b_gets_404_for_workspace_a_chat(inbox: Inbox, factory: Factory) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    await inbox.inbound(a, ALICE)
    (chat,) = await inbox.chats(a)
    assert await inbox.chats(b) == []
    not_found = {"status": "error", "message": "Chat not found"}
    for method, path in [
        ("GET", f"/chats/{chat['id']}"),
        ("GET", f"/chats/{chat['id']}/messages"),
        ("POST", f"/chats/{chat['id']}/assign"),
        ("POST", f"/chats/{chat['id']}/resolve"),
        ("POST", f"/chats/{chat['id']}/reopen"),
    ]:
        if method == "GET":
            r = await inbox.get(b, path)
        else:
            r = await inbox.post(b, path, {"user_id": None})
        assert (r.status_code, r.json()) == (404, not_found), path
    assert (await inbox.get(a, f"/chats/{chat['id']}")).status_code == 200
    assert (await inbox.get(b, "/chats/abc")).status_code == 404
