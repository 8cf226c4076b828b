"""The admin API for Meta webhook forwards: create (secret once), list, show, update, delete,
rotate, test, logs; validation; SSRF rules; isolation from other workspaces and from
Xobito's own webhook endpoints."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from standardwebhooks import Webhook

from tests.factories import Factory
from tests.webhook.conftest import Hooks, Receiver
from xobito.app import create_app
from xobito.config import Settings
from xobito.webhook.forward_schemas import META_FIELDS
from xobito.webhook.urls import BLOCKED_MESSAGE

SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")
FIELDS = {
    "id",
    "tenant_id",
    "url",
    "enabled",
    "fields",
    "disabled_reason",
    "failing_since",
    "secret_rotation_ends_at",
    "created_at",
    "updated_at",
}


def base(hooks: Hooks, t: object) -> str:
    return f"{hooks.base(t)}/meta-forwards"  # type: ignore[arg-type]


async def test_create_list_show_update_delete(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    url = base(hooks, t)
    r = await client.post(
        url, json={"url": receiver.url("/m"), "fields": ["messages"]}, headers=hooks.admin
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["message"]) == ("success", "Meta forward created successfully")
    data = body["data"]
    assert set(data) == FIELDS | {"secret"}
    assert SECRET.match(data["secret"])
    assert (data["tenant_id"], data["enabled"], data["fields"]) == (t.workspace.id, 1, ["messages"])

    listed = await client.get(url, headers=hooks.admin)
    assert [x["id"] for x in listed.json()["data"]] == [data["id"]]
    assert data["secret"] not in listed.text
    shown = await client.get(f"{url}/{data['id']}", headers=hooks.admin)
    assert shown.status_code == 200
    assert set(shown.json()["data"]) == FIELDS

    patched = await client.patch(
        f"{url}/{data['id']}",
        json={"fields": ["account_update", "messages", "account_update"], "enabled": False},
        headers=hooks.admin,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["message"] == "Meta forward updated successfully"
    assert patched.json()["data"]["fields"] == ["account_update", "messages"]
    assert patched.json()["data"]["enabled"] == 0

    gone = await client.delete(f"{url}/{data['id']}", headers=hooks.admin)
    assert gone.json() == {"status": "success", "message": "Meta forward deleted successfully"}
    assert (await client.get(url, headers=hooks.admin)).json()["data"] == []


async def test_every_field_by_default(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    r = await client.post(base(hooks, t), json={"url": receiver.url()}, headers=hooks.admin)
    assert r.json()["data"]["fields"] == list(META_FIELDS)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"url": ["The url field is required."]}),
        ({"url": "ftp://example.com/hook"}, {"url": ["The url format is invalid."]}),
        (
            {"url": "https://example.com/h", "fields": ["messages", "everything"]},
            {"fields.1": ["The selected fields.1 is invalid."]},
        ),
        (
            {"url": "https://example.com/h", "fields": []},
            {"fields": ["The fields must have at least 1 items."]},
        ),
        (
            {"url": "https://example.com/h", "fields": "messages"},
            {"fields": ["The fields must be an array."]},
        ),
    ],
)
async def test_invalid_bodies_are_422(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, body: object, errors: object
) -> None:
    t = await factory.tenant()
    r = await client.post(base(hooks, t), json=body, headers=hooks.admin)
    assert r.status_code == 422, r.text
    assert r.json() == {"status": "error", "message": "Validation failed", "errors": errors}
    assert (await client.get(base(hooks, t), headers=hooks.admin)).json()["data"] == []


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, configured as production would be."""
    app = create_app(settings.model_copy(update={"webhook_allow_private_urls": False}))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.dispatcher.close()
    await app.state.engine.dispose()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/hook", "http://169.254.169.254/", "http://[::1]/"]
)
async def test_internal_addresses_are_refused_as_for_webhooks(
    strict: httpx.AsyncClient, factory: Factory, hooks: Hooks, url: str
) -> None:
    t = await factory.tenant()
    r = await strict.post(base(hooks, t), json={"url": url}, headers=hooks.admin)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == {"url": [BLOCKED_MESSAGE]}
    ok = await strict.post(
        base(hooks, t), json={"url": "https://hooks.example.com/meta"}, headers=hooks.admin
    )
    assert ok.status_code == 201
    r = await strict.patch(
        f"{base(hooks, t)}/{ok.json()['data']['id']}", json={"url": url}, headers=hooks.admin
    )
    assert r.json()["errors"] == {"url": [BLOCKED_MESSAGE]}


async def test_forwards_and_webhook_endpoints_do_not_mix(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    endpoint = await hooks.endpoint(t)
    r = await client.post(base(hooks, t), json={"url": receiver.url()}, headers=hooks.admin)
    forward = r.json()["data"]
    webhooks = (await client.get(f"{hooks.base(t)}/webhooks", headers=hooks.admin)).json()
    assert [e["id"] for e in webhooks["data"]] == [endpoint["id"]]
    forwards = (await client.get(base(hooks, t), headers=hooks.admin)).json()
    assert [f["id"] for f in forwards["data"]] == [forward["id"]]
    r = await client.get(f"{base(hooks, t)}/{endpoint['id']}", headers=hooks.admin)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Meta forward not found"}
    r = await client.delete(f"{hooks.base(t)}/webhooks/{forward['id']}", headers=hooks.admin)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Webhook not found"}
    # a contact change is one of Xobito's events: the forward does not get it
    await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    await hooks.deliver()
    assert {h.headers["X-Webhook-Event"] for h in receiver.hits} == {"created"}
    assert {h.path for h in receiver.hits} == {urlsplit(endpoint["url"]).path}


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("POST", "/test"),
        ("GET", "/logs"),
    ],
)
async def test_workspace_b_gets_404_for_workspace_a_forward(
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    method: str,
    suffix: str,
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.post(base(hooks, a), json={"url": receiver.url()}, headers=hooks.admin)
    fid = r.json()["data"]["id"]
    r = await client.request(
        method, f"{base(hooks, b)}/{fid}{suffix}", json={"enabled": False}, headers=hooks.admin
    )
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Meta forward not found"}
    still = await client.get(f"{base(hooks, a)}/{fid}", headers=hooks.admin)
    assert still.json()["data"]["enabled"] == 1


async def test_test_event_rotation_and_logs(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    r = await client.post(
        base(hooks, t),
        json={"url": receiver.url("/t"), "fields": ["messages"]},
        headers=hooks.admin,
    )
    forward = r.json()["data"]
    url = f"{base(hooks, t)}/{forward['id']}"
    rotated = await client.post(f"{url}/rotate-secret", headers=hooks.admin)
    assert rotated.status_code == 200
    assert rotated.json()["message"] == "Meta forward secret rotated successfully"
    new_secret = rotated.json()["data"]["secret"]
    assert SECRET.match(new_secret) and new_secret != forward["secret"]
    assert rotated.json()["data"]["secret_rotation_ends_at"] is not None

    queued = await client.post(f"{url}/test", headers=hooks.admin)
    assert queued.status_code == 202
    assert queued.json()["message"] == "Test event queued"
    await hooks.deliver()
    [hit] = receiver.at("/t")
    assert hit.event_id == queued.json()["data"]["event_id"]
    assert hit.headers["X-Webhook-Event"] == "webhook.test"
    assert hit.json["object"] == "whatsapp_business_account"
    [entry] = hit.json["entry"]
    assert entry["changes"][0]["field"] == "test"
    assert entry["changes"][0]["value"]["forward_id"] == forward["id"]
    # both secrets sign during the overlap
    Webhook(new_secret).verify(hit.body, hit.headers)
    Webhook(forward["secret"]).verify(hit.body, hit.headers)

    logs = (await client.get(f"{url}/logs", headers=hooks.admin)).json()["data"]
    assert [(x["event"], x["status_code"], x["attempt"]) for x in logs] == [
        ("webhook.test", 200, 1)
    ]
