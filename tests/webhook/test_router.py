"""The admin API for webhook endpoints (docs/api/admin.md): create, list, update, delete, rotate,
test,
logs, redeliver; secrets shown once; isolation between workspaces."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta

import httpx
import pytest

from tests.factories import Factory, Tenant
from tests.webhook.conftest import Hooks, Receiver
from xobito.kit.time import utcnow
from xobito.models import WebhookDelivery, WebhookLog
from xobito.webhook.schemas import EVENT_NAMES

SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")
FIELDS = {
    "id",
    "tenant_id",
    "url",
    "enabled",
    "events",
    "disabled_reason",
    "failing_since",
    "secret_rotation_ends_at",
    "created_at",
    "updated_at",
}


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=utcnow().tzinfo)


async def test_create_returns_the_record_and_the_secret_once(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    r = await client.post(
        f"{hooks.base(t)}/webhooks", json={"url": receiver.url("/x")}, headers=hooks.admin
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "success"
    assert body["message"] == "Webhook created successfully"
    data = body["data"]
    assert set(data) == FIELDS | {"secret"}
    assert SECRET.match(data["secret"])
    assert len(base64.b64decode(data["secret"].removeprefix("whsec_"))) == 32
    assert data["url"] == receiver.url("/x")
    assert data["tenant_id"] == t.workspace.id
    assert data["enabled"] == 1
    assert data["events"] == list(EVENT_NAMES)  # everything by default
    assert data["secret_rotation_ends_at"] is None

    listed = await client.get(f"{hooks.base(t)}/webhooks", headers=hooks.admin)
    assert listed.status_code == 200
    assert [set(x) for x in listed.json()["data"]] == [FIELDS]
    assert data["secret"] not in listed.text
    patched = await client.patch(
        f"{hooks.base(t)}/webhooks/{data['id']}",
        json={"events": ["contacts.created", "message.read"], "url": receiver.url("/y")},
        headers=hooks.admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["message"] == "Webhook updated successfully"
    assert set(patched.json()["data"]) == FIELDS
    assert patched.json()["data"]["events"] == ["contacts.created", "message.read"]
    assert patched.json()["data"]["url"] == receiver.url("/y")
    assert data["secret"] not in patched.text


async def test_two_endpoints_get_different_secrets(factory: Factory, hooks: Hooks) -> None:
    t = await factory.tenant()
    a, b = await hooks.endpoint(t), await hooks.endpoint(t)
    assert a["secret"] != b["secret"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"url": ["The url field is required."]}),
        ({"url": "ftp://example.com/hook"}, {"url": ["The url format is invalid."]}),
        ({"url": "not a url"}, {"url": ["The url format is invalid."]}),
        ({"url": 5}, {"url": ["The url must be a string."]}),
        (
            {"url": "https://example.com/h", "events": ["contacts.exploded"]},
            {"events.0": ["The selected events.0 is invalid."]},
        ),
        (
            {"url": "https://example.com/h", "events": []},
            {"events": ["The events must have at least 1 items."]},
        ),
    ],
)
async def test_invalid_bodies_are_422(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, body: object, errors: object
) -> None:
    t = await factory.tenant()
    r = await client.post(f"{hooks.base(t)}/webhooks", json=body, headers=hooks.admin)
    assert r.status_code == 422, r.text
    assert r.json() == {"status": "error", "message": "Validation failed", "errors": errors}
    assert (await client.get(f"{hooks.base(t)}/webhooks", headers=hooks.admin)).json()["data"] == []


async def test_delete_removes_the_endpoint_and_its_queue(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/gone")
    await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    r = await client.delete(f"{hooks.base(t)}/webhooks/{e['id']}", headers=hooks.admin)
    assert r.status_code == 200
    assert r.json() == {"status": "success", "message": "Webhook deleted successfully"}
    assert await hooks.count(WebhookDelivery) == 0
    assert await hooks.deliver() == 0
    assert receiver.hits == []


async def test_rotate_returns_a_new_secret_and_the_end_of_the_overlap(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t)
    r = await client.post(f"{hooks.base(t)}/webhooks/{e['id']}/rotate-secret", headers=hooks.admin)
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Webhook secret rotated successfully"
    data = r.json()["data"]
    assert SECRET.match(data["secret"]) and data["secret"] != e["secret"]
    ends = parse(data["secret_rotation_ends_at"])
    assert abs((ends - utcnow()) - timedelta(hours=24)) < timedelta(minutes=1)
    listed = await client.get(f"{hooks.base(t)}/webhooks", headers=hooks.admin)
    assert data["secret"] not in listed.text and e["secret"] not in listed.text


async def test_a_test_event_reaches_only_that_endpoint(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/t", events=["message.read"])
    await hooks.endpoint(t, "/other")
    r = await client.post(f"{hooks.base(t)}/webhooks/{e['id']}/test", headers=hooks.admin)
    assert r.status_code == 202, r.text
    assert r.json()["message"] == "Test event queued"
    event_id = r.json()["data"]["event_id"]
    assert await hooks.deliver() == 1
    (hit,) = receiver.hits
    assert hit.path == "/t"
    assert hit.event_id == event_id
    assert hit.headers["X-Webhook-Event"] == "webhook.test"
    assert hit.json["event"] == "webhook.test"
    assert hit.json["data"]["id"] == e["id"]
    assert hit.json["data"]["tenant_id"] == t.workspace.id


async def test_logs_are_newest_first_with_every_attempt(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    e = await hooks.endpoint(t, "/l")
    receiver.respond("/l", 500, then=200, body=b"nope")
    await client.post(t.url("/sources"), json={"name": "One"}, headers=t.headers)
    await client.post(t.url("/sources"), json={"name": "Two"}, headers=t.headers)
    await hooks.deliver()
    r = await client.get(f"{hooks.base(t)}/webhooks/{e['id']}/logs", headers=hooks.admin)
    assert r.status_code == 200, r.text
    logs = r.json()["data"]
    assert len(logs) == 2
    assert [x["id"] for x in logs] == sorted((x["id"] for x in logs), reverse=True)
    assert set(logs[0]) == {
        "id",
        "event_id",
        "event",
        "endpoint_id",
        "delivery_id",
        "attempt",
        "status_code",
        "response_excerpt",
        "duration_ms",
        "error",
        "created_at",
    }
    assert sorted(x["status_code"] for x in logs) == [200, 500]
    assert {x["response_excerpt"] for x in logs} == {"nope"}
    assert {x["event_id"] for x in logs} == receiver.event_ids()
    limited = await client.get(
        f"{hooks.base(t)}/webhooks/{e['id']}/logs?limit=1&offset=1", headers=hooks.admin
    )
    assert [x["id"] for x in limited.json()["data"]] == [logs[1]["id"]]
    bad = await client.get(f"{hooks.base(t)}/webhooks/{e['id']}/logs?limit=0", headers=hooks.admin)
    assert bad.status_code == 422


async def test_redeliver_sends_the_same_event_again(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/r")
    await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    await hooks.deliver()
    (first,) = receiver.at("/r")
    r = await client.post(
        f"{hooks.base(t)}/webhook-events/{first.event_id}/redeliver", headers=hooks.admin
    )
    assert r.status_code == 202, r.text
    assert r.json()["data"] == {"event_id": first.event_id, "deliveries": 1}
    assert await hooks.deliver() == 1
    first, again = receiver.at("/r")
    assert again.event_id == first.event_id
    assert again.body == first.body
    assert await hooks.count(WebhookLog) == 2


async def test_unknown_ids_are_404(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks
) -> None:
    t = await factory.tenant()
    base = f"{hooks.base(t)}/webhooks/999"
    for method, url in [
        ("PATCH", base),
        ("DELETE", base),
        ("POST", f"{base}/rotate-secret"),
        ("POST", f"{base}/test"),
        ("GET", f"{base}/logs"),
    ]:
        r = await client.request(
            method, url, json={} if method == "PATCH" else None, headers=hooks.admin
        )
        assert r.status_code == 404, (method, url, r.text)
        assert r.json() == {"status": "error", "message": "Webhook not found"}
    r = await client.post(
        f"{hooks.base(t)}/webhook-events/evt_nothing/redeliver", headers=hooks.admin
    )
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Webhook event not found"}
    r = await client.get("/api/admin/workspaces/nobody/webhooks", headers=hooks.admin)
    assert r.status_code == 404
    assert r.json()["message"] == "Workspace not found"


async def test_workspace_b_gets_404_for_workspace_a_endpoint_and_event(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    e = await hooks.endpoint(a, "/a")
    await client.post(a.url("/sources"), json={"name": "Web"}, headers=a.headers)
    await hooks.deliver()
    (hit,) = receiver.hits
    on_b = f"{hooks.base(b)}/webhooks/{e['id']}"
    for method, url in [
        ("PATCH", on_b),
        ("DELETE", on_b),
        ("POST", f"{on_b}/rotate-secret"),
        ("POST", f"{on_b}/test"),
        ("GET", f"{on_b}/logs"),
        ("POST", f"{hooks.base(b)}/webhook-events/{hit.event_id}/redeliver"),
    ]:
        r = await client.request(
            method, url, json={} if method == "PATCH" else None, headers=hooks.admin
        )
        assert r.status_code == 404, (method, url, r.text)
    listed = await client.get(f"{hooks.base(b)}/webhooks", headers=hooks.admin)
    assert listed.json()["data"] == []
    assert len(await hooks.deliveries()) == 1  # nothing was queued again


async def test_a_workspace_token_is_not_an_admin_key(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks
) -> None:
    """The admin API's analogue of "token of A on B's subdomain": 401 without the key."""
    a, b = await factory.tenant(), await factory.tenant()
    for headers in (a.headers, {}, {"Authorization": "Bearer wrong"}):
        r = await client.get(f"{hooks.base(b)}/webhooks", headers=headers)
        assert r.status_code == 401, r.text
        r = await client.post(
            f"{hooks.base(a)}/webhooks", json={"url": "https://example.com/"}, headers=headers
        )
        assert r.status_code == 401
    assert await hooks.count(WebhookDelivery) == 0
    assert isinstance(b, Tenant)
