"""Settings → Webhooks and Meta forwarding: endpoints (add, edit, enable/disable, remove), the
secret shown once and rotated, test events delivered to a real local receiver, the delivery
log (request, response, status, timing) and redelivery; owner and admin only; tenancy."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from tests.web.conftest import Team, WebClient, field, field_errors, main_text, soup
from tests.webhook.conftest import Receiver, _close_dispatcher, receiver, receiver_server
from xobito.models import ActivityEntry, WebhookDelivery, WebhookEndpoint
from xobito.webhook.service import WebhookService
from xobito.webhook.signing import xobito_signature

__all__ = ["_close_dispatcher", "receiver", "receiver_server"]

SignedIn = Any
PAGE = "/app/acme/settings/webhooks"
META = "/app/acme/settings/webhooks/meta"


async def deliver(app: FastAPI) -> None:
    """What the worker does: send everything due now."""
    while await app.state.dispatcher.run_once():
        pass


async def endpoint_of(app: FastAPI, workspace_id: int, url: str, **body: Any) -> WebhookEndpoint:
    async with app.state.sessionmaker() as s:
        endpoint, _ = await WebhookService(s, workspace_id, app.state.settings).create(
            {"url": url, **body}
        )
        await s.commit()
        return endpoint


async def test_admin_adds_an_endpoint_sees_its_secret_once_and_tests_it(
    signed_in: SignedIn, team: Team, receiver: Receiver, app: FastAPI, session: AsyncSession
) -> None:
    admin: WebClient = await signed_in("admin")
    form = soup(await admin.get(PAGE))
    assert field(form, "URL").get("name") == "url"
    assert field(form, "contacts.created").get("name") == "events[]"
    r = await admin.post(
        PAGE,
        {
            "url": receiver.url("/in"),
            "events[]": ["contacts.created", "message.received"],
            "enabled": "1",
        },
    )
    assert r.status_code == 201
    page = soup(r)
    secret = str(field(page, "Signing secret").get("value"))
    assert secret.startswith("whsec_")
    assert "shown only this once" in main_text(page)
    await session.rollback()
    endpoint = (await session.execute(select(WebhookEndpoint))).scalar_one()
    assert (endpoint.workspace_id, endpoint.kind, endpoint.events) == (
        team.a.workspace.id,
        "xobito",
        ["contacts.created", "message.received"],
    )
    detail = f"{PAGE}/{endpoint.id}"
    shown = await admin.get(detail)
    assert secret not in shown.text  # once only
    assert "Nothing sent yet." in main_text(soup(shown))

    r = await admin.post(f"{detail}/test")
    assert (r.status_code, r.headers["location"]) == (303, detail)
    queued = soup(await admin.get(detail))
    assert "1 delivery waiting to be sent" in main_text(queued)
    poller = queued.select_one("#delivery-log [hx-trigger]")
    assert poller is not None and poller.get("hx-trigger") == "load delay:2s"

    await deliver(app)
    assert len(receiver.at("/in")) == 1
    hit = receiver.at("/in")[0]
    assert hit.headers["X-Webhook-Signature"] == xobito_signature(hit.body, secret)
    assert hit.json["event"] == "webhook.test"
    # The log region as its poll asks for it: the attempt, and no further polling.
    log = await admin.get(detail, htmx=True, headers={"HX-Target": "delivery-log"})
    assert "<html" not in log.text
    entry = soup(log)
    assert entry.select_one("[hx-trigger]") is None
    text = entry.get_text(" ", strip=True)
    assert "webhook.test" in text and "HTTP 200" in text and " ms" in text
    assert f"POST {receiver.url('/in')}" in text
    assert "This is a test event from Xobito." in text  # the request body
    assert '{"ok":true}' in text  # the response


async def test_redeliver_sends_the_same_event_again(
    signed_in: SignedIn, team: Team, receiver: Receiver, app: FastAPI
) -> None:
    endpoint = await endpoint_of(app, team.a.workspace.id, receiver.url("/again"))
    owner: WebClient = await signed_in("owner")
    detail = f"{PAGE}/{endpoint.id}"
    await owner.post(f"{detail}/test")
    await deliver(app)
    event_id = receiver.at("/again")[0].event_id
    r = await owner.post(f"{detail}/redeliver", {"event_id": event_id})
    assert r.status_code == 303
    assert f"Event {event_id} queued again for this endpoint." in (await owner.get(detail)).text
    await deliver(app)
    assert [h.event_id for h in receiver.at("/again")] == [event_id, event_id]
    assert len(soup(await owner.get(detail)).select("#delivery-log li")) == 2
    r = await owner.post(f"{detail}/redeliver", {"event_id": "evt_nope"})
    assert r.status_code == 404


async def test_redeliver_from_one_endpoints_log_sends_only_to_that_endpoint(
    signed_in: SignedIn, team: Team, receiver: Receiver, app: FastAPI, factory: Factory
) -> None:
    first = await endpoint_of(app, team.a.workspace.id, receiver.url("/first"))
    await endpoint_of(app, team.a.workspace.id, receiver.url("/second"))
    await factory.contact(team.a, firstname="Ada", phone="+14155552671")
    await deliver(app)
    created = [h for h in receiver.at("/first") if h.json["model"].endswith("\\Contact")]
    assert len(created) == 1 and len(receiver.at("/second")) == len(receiver.at("/first"))
    event_id = created[0].event_id
    owner: WebClient = await signed_in("owner")
    r = await owner.post(f"{PAGE}/{first.id}/redeliver", {"event_id": event_id})
    assert r.status_code == 303
    await deliver(app)
    assert [h.event_id for h in receiver.at("/first")].count(event_id) == 2
    assert [h.event_id for h in receiver.at("/second")].count(event_id) == 1, "not the other"


async def test_edit_disable_rotate_and_remove(
    signed_in: SignedIn, team: Team, receiver: Receiver, app: FastAPI, session: AsyncSession
) -> None:
    endpoint = await endpoint_of(app, team.a.workspace.id, receiver.url("/x"))
    owner: WebClient = await signed_in("owner")
    detail = f"{PAGE}/{endpoint.id}"
    r = await owner.post(
        detail, {"url": receiver.url("/y"), "events[]": ["contacts.deleted"], "enabled": "0"}
    )
    assert r.status_code == 303
    page = await owner.get(detail)
    assert "The endpoint is saved." in page.text
    assert soup(page).find("button", string="Send test event").has_attr("disabled")
    await session.rollback()
    row = await session.get(WebhookEndpoint, endpoint.id, populate_existing=True)
    assert row is not None
    assert (row.url, row.events, row.enabled) == (receiver.url("/y"), ["contacts.deleted"], False)

    old_secret = row.secret
    r = await owner.post(f"{detail}/rotate")
    assert r.status_code == 200
    new_secret = str(field(soup(r), "Signing secret").get("value"))
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    assert "The previous secret keeps signing too" in r.text

    r = await owner.post(detail, {"url": "ftp://nope", "enabled": "1"})
    assert r.status_code == 422
    assert field_errors(soup(r), "URL") == ["The url format is invalid."]

    r = await owner.post(f"{detail}/delete")
    assert (r.status_code, r.headers["location"]) == (303, PAGE)
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    actions = set((await session.execute(select(ActivityEntry.action))).scalars())
    assert {"webhook.updated", "webhook.secret_rotated", "webhook.deleted"} <= actions


async def test_validation_messages_beside_the_fields(signed_in: SignedIn) -> None:
    admin: WebClient = await signed_in("admin")
    r = await admin.post(PAGE, {"url": "", "enabled": "1"})
    assert r.status_code == 422
    assert field_errors(soup(r), "URL") == ["The url field is required."]
    r = await admin.post(PAGE, {"url": "https://example.com/h", "events[]": ["nope"]})
    assert r.status_code == 422
    assert "The selected events.0 is invalid." in r.text
    assert field(soup(r), "URL").get("value") == "https://example.com/h"


async def test_meta_forwarding_by_field(
    signed_in: SignedIn, team: Team, receiver: Receiver, app: FastAPI, session: AsyncSession
) -> None:
    owner: WebClient = await signed_in("owner")
    form = soup(await owner.get(META))
    assert field(form, "messages").get("name") == "fields[]"
    assert "Meta forwarding" in main_text(form)
    r = await owner.post(META, {"url": receiver.url("/meta"), "fields[]": ["messages"]})
    assert r.status_code == 201
    assert str(field(soup(r), "Signing secret").get("value")).startswith("whsec_")
    await session.rollback()
    forward = (await session.execute(select(WebhookEndpoint))).scalar_one()
    assert (forward.kind, forward.events) == ("meta", ["meta.messages"])
    # Forwards and endpoints are separate lists, and ids do not cross over.
    assert receiver.url("/meta") not in (await owner.get(PAGE)).text
    assert (await owner.get(f"{PAGE}/{forward.id}")).status_code == 404
    r = await owner.post(f"{META}/{forward.id}/test")
    assert r.status_code == 303
    await deliver(app)
    hit = receiver.at("/meta")[0]
    assert hit.json["object"] == "whatsapp_business_account"
    text = main_text(soup(await owner.get(f"{META}/{forward.id}")))
    assert "HTTP 200" in text and "This is a test event from Xobito." in text


async def test_agents_get_the_403_page(signed_in: SignedIn, team: Team, app: FastAPI) -> None:
    endpoint = await endpoint_of(app, team.a.workspace.id, "http://127.0.0.1:9/h")
    agent: WebClient = await signed_in("agent")
    for r in (
        await agent.get(PAGE),
        await agent.get(META),
        await agent.get(f"{PAGE}/{endpoint.id}"),
        await agent.post(PAGE, {"url": "http://127.0.0.1:9/x"}),
        await agent.post(f"{PAGE}/{endpoint.id}/test"),
        await agent.post(f"{PAGE}/{endpoint.id}/rotate"),
        await agent.post(f"{PAGE}/{endpoint.id}/delete"),
    ):
        assert r.status_code == 403
        assert "This page needs the admin role or higher." in r.text


async def test_another_workspaces_endpoint_is_not_found(
    signed_in: SignedIn, team: Team, app: FastAPI, session: AsyncSession
) -> None:
    theirs = await endpoint_of(app, team.b.workspace.id, "http://127.0.0.1:9/b")
    owner: WebClient = await signed_in("owner")
    base = f"{PAGE}/{theirs.id}"
    for r in (
        await owner.get(base),
        await owner.post(base, {"url": "http://127.0.0.1:9/hacked", "enabled": "1"}),
        await owner.post(f"{base}/test"),
        await owner.post(f"{base}/rotate"),
        await owner.post(f"{base}/delete"),
        await owner.post(f"{base}/redeliver", {"event_id": "x"}),
        await owner.get("/app/globex/settings/webhooks"),
    ):
        assert r.status_code == 404
    await session.rollback()
    row = await session.get(WebhookEndpoint, theirs.id)
    assert row is not None and row.url == "http://127.0.0.1:9/b"
    assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
