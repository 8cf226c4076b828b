"""Meta webhook forwarding end to end: Meta posts signed webhooks to ``/webhooks/whatsapp``,
the worker stores them, and each workspace's forwards receive their share at the real
local receiver, signed like Xobito's webhooks, retried, logged and redeliverable."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from tests.factories import Factory
from tests.inbound import conftest as inbound_fixtures
from tests.inbound.conftest import Meta
from tests.webhook.conftest import FakeClock, Hooks, MakeDispatcher, Receiver
from tests.webhook.forwards import Forwards, change, envelope, hex_signature
from xobito.models import WebhookEvent, WebhookLog

meta = inbound_fixtures.meta
app_settings = inbound_fixtures.app_settings


@pytest.fixture
def forwards(app: FastAPI, client: httpx.AsyncClient, hooks: Hooks, meta: Meta) -> Forwards:
    return Forwards(app, client, hooks, meta)


async def test_a_message_is_forwarded_raw_and_signed(
    forwards: Forwards, meta: Meta, receiver: Receiver
) -> None:
    line = await meta.line()
    fwd = await forwards.create(line.tenant, ["messages"], path="/meta")
    payload = forwards.text(line, "Is my order on its way?")
    await forwards.meta_sends(payload, line.app_secret)
    [hit] = receiver.at("/meta")
    assert hit.json == payload  # Meta's envelope and values, untouched
    assert hit.headers["X-Webhook-Event"] == "messages"
    assert hit.headers["Content-Type"] == "application/json"
    assert hit.headers["X-Webhook-Signature"] == hex_signature(fwd["secret"], hit.body)
    Webhook(fwd["secret"]).verify(hit.body, hit.headers)  # Standard Webhooks, too
    assert hit.headers["webhook-id"] == hit.event_id
    assert "X-Hub-Signature-256" not in hit.headers  # Meta's signature is not passed on
    # the message was stored as usual, besides being forwarded
    assert [m.text for m in await meta.messages(line.workspace_id)] == ["Is my order on its way?"]


async def test_only_the_chosen_fields_are_forwarded(forwards: Forwards, meta: Meta) -> None:
    line = await meta.line()
    await forwards.create(line.tenant, ["message_template_status_update"], path="/templates")
    await forwards.meta_sends(forwards.text(line), line.app_secret)
    assert forwards.receiver.at("/templates") == []
    update = envelope(
        {
            "id": line.waba_id,
            "time": 1750000000,
            "changes": [
                change(
                    "message_template_status_update",
                    {"event": "APPROVED", "message_template_id": 806312974732579},
                )
            ],
        }
    )
    await forwards.meta_sends(update, line.app_secret)
    [hit] = forwards.receiver.at("/templates")
    assert hit.json == update  # routed by its WABA; the entry's "time" is kept
    assert hit.headers["X-Webhook-Event"] == "message_template_status_update"


async def test_every_field_by_default_one_event_per_field(forwards: Forwards, meta: Meta) -> None:
    line = await meta.line()
    fwd = await forwards.create(line.tenant, path="/all")
    assert "phone_number_quality_update" in fwd["fields"]
    number_change = forwards.text(line)["entry"][0]["changes"][0]
    quality = change(
        "phone_number_quality_update",
        {"display_phone_number": "15550783881", "event": "FLAGGED", "current_limit": "TIER_1K"},
    )
    body = envelope({"id": line.waba_id, "changes": [number_change, quality]})
    await forwards.meta_sends(body, line.app_secret)
    hits = forwards.receiver.at("/all")
    assert sorted(h.headers["X-Webhook-Event"] for h in hits) == [
        "messages",
        "phone_number_quality_update",
    ]
    by_event = {h.headers["X-Webhook-Event"]: h.json for h in hits}
    assert by_event["messages"]["entry"] == [{"id": line.waba_id, "changes": [number_change]}]
    assert by_event["phone_number_quality_update"]["entry"] == [
        {"id": line.waba_id, "changes": [quality]}
    ]


async def test_each_workspace_gets_only_its_own_changes(
    forwards: Forwards, meta: Meta, app_settings: Callable[..., None]
) -> None:
    a = await meta.line()
    b = await meta.line()
    await forwards.create(a.tenant, ["messages"], path="/a")
    await forwards.create(b.tenant, ["messages"], path="/b")
    to_a = forwards.text(a, "for a")["entry"][0]
    to_b = forwards.text(b, "for b")["entry"][0]
    app_settings(meta_app_secret="app-level")  # one body for both, as one Meta app sends it
    await forwards.meta_sends(envelope(to_a, to_b), "app-level")
    [hit_a] = forwards.receiver.at("/a")
    [hit_b] = forwards.receiver.at("/b")
    assert hit_a.json == envelope(to_a)
    assert hit_b.json == envelope(to_b)


async def test_a_change_is_not_forwarded_where_its_signature_did_not_reach(
    forwards: Forwards, meta: Meta
) -> None:
    a = await meta.line(waba_id="419561257999999")
    b = await meta.line(waba_id="419561257999999")  # another workspace on the same WABA
    await forwards.create(a.tenant, ["account_update"], path="/a")
    await forwards.create(b.tenant, ["account_update"], path="/b")
    body = envelope(
        {"id": a.waba_id, "changes": [change("account_update", {"event": "VERIFIED_ACCOUNT"})]}
    )
    await forwards.meta_sends(body, a.app_secret)  # signed by a's app only
    assert len(forwards.receiver.at("/a")) == 1
    assert forwards.receiver.at("/b") == []
    # with b's secret, b's forward gets it (and a's does not)
    await forwards.meta_sends(body, b.app_secret)
    assert len(forwards.receiver.at("/a")) == 1
    assert len(forwards.receiver.at("/b")) == 1


async def test_a_meta_redelivery_is_forwarded_once(forwards: Forwards, meta: Meta) -> None:
    line = await meta.line()
    await forwards.create(line.tenant, ["messages"], path="/once")
    payload = forwards.text(line)
    await forwards.meta_sends(payload, line.app_secret)
    await forwards.meta_sends(payload, line.app_secret)  # Meta delivers it again
    assert len(forwards.receiver.at("/once")) == 1
    assert await forwards.hooks.count(WebhookEvent) == 1
    inbox = await meta.inbox()
    assert len(inbox) == 2
    assert all(row.processed_at is not None and row.error is None for row in inbox)


async def test_disabled_forwards_and_other_workspaces_numbers_get_nothing(
    forwards: Forwards, meta: Meta
) -> None:
    a = await meta.line()
    b = await meta.line()
    await forwards.create(a.tenant, ["messages"], path="/off", enabled=False)
    await forwards.create(b.tenant, ["messages"], path="/b")
    await forwards.meta_sends(forwards.text(a), a.app_secret)
    assert forwards.receiver.hits == []
    assert await forwards.hooks.count(WebhookEvent) == 0


async def test_failed_forwards_are_retried_logged_and_redeliverable(
    forwards: Forwards,
    meta: Meta,
    client: httpx.AsyncClient,
    receiver: Receiver,
    make_dispatcher: MakeDispatcher,
) -> None:
    line = await meta.line()
    receiver.respond("/flaky", 500, 503, then=200)
    fwd = await forwards.create(line.tenant, ["messages"], path="/flaky")
    await meta.deliver(forwards.text(line), line.app_secret)
    await meta.drain()
    clock = FakeClock()
    dispatcher = make_dispatcher(clock)
    for wait in (0, 1, 2):  # the retry schedule: at once, then after 1 s and 2 s
        clock.advance(wait)
        assert await dispatcher.run_once() == 1
    hits = receiver.at("/flaky")
    assert len(hits) == 3
    assert len({h.event_id for h in hits}) == 1
    assert len({h.body for h in hits}) == 1
    r = await client.get(
        forwards.url(line.tenant, f"/{fwd['id']}/logs"), headers=forwards.hooks.admin
    )
    assert r.status_code == 200
    logs = r.json()["data"]
    assert [(x["attempt"], x["status_code"]) for x in logs] == [(3, 200), (2, 503), (1, 500)]
    assert {x["event"] for x in logs} == {"messages"}
    event_id = hits[0].event_id
    r = await client.post(
        f"/api/admin/workspaces/{line.tenant.workspace.subdomain}/webhook-events/{event_id}/redeliver",
        headers=forwards.hooks.admin,
    )
    assert r.status_code == 202, r.text
    assert r.json()["data"] == {"event_id": event_id, "deliveries": 1}
    await forwards.hooks.deliver()
    again = receiver.at("/flaky")[-1]
    assert (again.event_id, again.body) == (event_id, hits[0].body)
    assert await forwards.hooks.count(WebhookLog) == 4


async def test_sandbox_traffic_is_forwarded_too(
    forwards: Forwards, factory: Factory, client: httpx.AsyncClient, app: FastAPI
) -> None:
    t = await factory.tenant()
    await forwards.create(t, ["messages"], path="/sandbox")
    r = await client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound",
        json={"phone_number": "+14155550123", "text": "Hi from the sandbox"},
        headers=forwards.hooks.admin,
    )
    assert r.status_code == 202, r.text
    await app.state.worker.drain()
    await forwards.hooks.deliver()
    [hit] = forwards.receiver.at("/sandbox")
    [entry] = hit.json["entry"]
    [message] = entry["changes"][0]["value"]["messages"]
    assert message["text"] == {"body": "Hi from the sandbox"}
