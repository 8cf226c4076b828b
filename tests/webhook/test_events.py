"""CRUD events (docs/webhooks.md): payload shapes, which changes emit, which endpoints receive them.

Changes go through the v1 API (and the services behind other paths); deliveries go to the
real local receiver through the app's dispatcher.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.factories import Factory
from tests.webhook.conftest import Hit, Hooks, Receiver
from xobito.models import WebhookDelivery, WebhookEvent

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
MODEL = "App\\Models\\Tenant\\"


def crud(hit: Hit, event: str, model: str, attributes: dict[str, Any], original: Any) -> None:
    """The exact CRUD envelope and its headers."""
    body = hit.json
    assert STAMP.match(body["timestamp"]), body["timestamp"]
    assert body == {
        "event": event,
        "model": MODEL + model,
        "data": {"id": attributes["id"], "attributes": attributes, "relations": {}},
        "original": original,
        "timestamp": body["timestamp"],
    }
    assert hit.headers["Content-Type"] == "application/json"
    assert hit.headers["X-Webhook-Event"] == event


async def test_contact_created_updated_deleted_carry_the_records_as_the_api_returned_them(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    status, source = await factory.status(t), await factory.source(t)
    await hooks.endpoint(t, "/c")
    body = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": "+1 (415) 555-0101",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
        "groups": "vip, beta",
    }
    created = await client.post(t.url("/contacts"), json=body, headers=t.headers)
    assert created.status_code == 201, created.text
    record = created.json()["data"]
    cid = record["id"]
    update = {"firstname": "Ada", "lastname": "King", "phone": "+14155550101", "type": "customer"}
    updated = await client.put(t.url(f"/contacts/{cid}"), json=update, headers=t.headers)
    assert updated.status_code == 200, updated.text
    after = updated.json()["data"]
    deleted = await client.delete(t.url(f"/contacts/{cid}"), headers=t.headers)
    assert deleted.status_code == 200

    assert await hooks.deliver() == 3
    first, second, third = receiver.at("/c")
    crud(first, "created", "Contact", record, None)
    assert len(record["group_id"]) == 2  # groups created with the contact are in the payload
    crud(second, "updated", "Contact", after, record)
    assert second.json["original"]["lastname"] == "Lovelace"
    assert second.json["data"]["attributes"]["lastname"] == "King"
    crud(third, "deleted", "Contact", after, None)
    assert len({first.event_id, second.event_id, third.event_id}) == 3


@pytest.mark.parametrize(("plural", "model"), [("statuses", "Status"), ("sources", "Source")])
async def test_status_and_source_changes_emit_their_model(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    plural: str,
    model: str,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/l")
    extra = {"color": "#ff0000"} if plural == "statuses" else {}
    r = await client.post(t.url(f"/{plural}"), json={"name": "Hot", **extra}, headers=t.headers)
    assert r.status_code == 201, r.text
    record = r.json()["data"]
    r = await client.put(
        t.url(f"/{plural}/{record['id']}"), json={"name": "Warm", **extra}, headers=t.headers
    )
    assert r.status_code == 200, r.text
    after = r.json()["data"]
    r = await client.delete(t.url(f"/{plural}/{record['id']}"), headers=t.headers)
    assert r.status_code == 200

    assert await hooks.deliver() == 3
    first, second, third = receiver.at("/l")
    crud(first, "created", model, record, None)
    crud(second, "updated", model, after, record)
    crud(third, "deleted", model, after, None)


async def test_groups_emit_nothing(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t)
    r = await client.post(t.url("/groups"), json={"name": "VIP"}, headers=t.headers)
    gid = r.json()["data"]["id"]
    await client.put(t.url(f"/groups/{gid}"), json={"name": "VIPs"}, headers=t.headers)
    await client.delete(t.url(f"/groups/{gid}"), headers=t.headers)
    assert await hooks.count(WebhookEvent) == 0
    assert await hooks.deliver() == 0
    assert receiver.hits == []


async def test_changes_made_through_the_services_emit_too(
    factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    """The factory writes through the services directly (no HTTP): same events."""
    t = await factory.tenant()
    await hooks.endpoint(t, "/s")
    record = await factory.contact(t)
    await hooks.deliver()
    events = [(h.json["model"].rsplit("\\", 1)[1], h.json["event"]) for h in receiver.at("/s")]
    assert events == [("Status", "created"), ("Source", "created"), ("Contact", "created")]
    assert receiver.at("/s")[2].json["data"]["attributes"] == record


async def test_a_workspace_without_endpoints_writes_no_events(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks
) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    await hooks.endpoint(other)
    r = await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    assert r.status_code == 201
    assert await hooks.count(WebhookEvent) == 0


async def test_each_endpoint_gets_only_the_events_it_selected(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/deleted-only", events=["sources.deleted"])
    await hooks.endpoint(t, "/created-only", events=["sources.created", "contacts.created"])
    r = await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    sid = r.json()["data"]["id"]
    await client.put(t.url(f"/sources/{sid}"), json={"name": "Webs"}, headers=t.headers)
    await client.delete(t.url(f"/sources/{sid}"), headers=t.headers)
    await hooks.deliver()
    assert [h.json["event"] for h in receiver.at("/deleted-only")] == ["deleted"]
    assert [h.json["event"] for h in receiver.at("/created-only")] == ["created"]
    assert await hooks.count(WebhookEvent) == 2  # nobody selected sources.updated


async def test_a_disabled_endpoint_gets_nothing(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    off = await hooks.endpoint(t, "/off", enabled=False)
    assert off["enabled"] == 0
    await hooks.endpoint(t, "/on")
    await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    await hooks.deliver()
    assert len(receiver.at("/on")) == 1
    assert receiver.at("/off") == []
    assert await hooks.count(WebhookDelivery, WebhookDelivery.endpoint_id == off["id"]) == 0


async def test_disabling_an_endpoint_holds_back_its_queued_deliveries(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/later")
    await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    r = await client.patch(
        f"{hooks.base(t)}/webhooks/{e['id']}", json={"enabled": False}, headers=hooks.admin
    )
    assert r.status_code == 200
    assert await hooks.deliver() == 0
    assert receiver.hits == []
    await client.patch(
        f"{hooks.base(t)}/webhooks/{e['id']}", json={"enabled": True}, headers=hooks.admin
    )
    assert await hooks.deliver() == 1
    assert len(receiver.at("/later")) == 1


async def test_several_endpoints_each_get_their_own_delivery_of_one_event(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    for path in ("/a", "/b", "/c"):
        await hooks.endpoint(t, path)
    await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    assert await hooks.count(WebhookEvent) == 1
    assert await hooks.count(WebhookDelivery) == 3
    assert await hooks.deliver() == 3
    hits = [receiver.at(p) for p in ("/a", "/b", "/c")]
    assert [len(h) for h in hits] == [1, 1, 1]
    assert len({h[0].event_id for h in hits}) == 1  # one event, three deliveries
    assert len({h[0].headers["X-Webhook-Signature"] for h in hits}) == 3  # own secrets
    assert all(d.state == "delivered" for d in await hooks.deliveries())


async def test_events_stay_in_their_workspace(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    await hooks.endpoint(a, "/a")
    await hooks.endpoint(b, "/b")
    await client.post(a.url("/sources"), json={"name": "Web"}, headers=a.headers)
    await hooks.deliver()
    assert len(receiver.at("/a")) == 1
    assert receiver.at("/a")[0].json["data"]["attributes"]["tenant_id"] == a.workspace.id
    assert receiver.at("/b") == []
