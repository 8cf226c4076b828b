"""Admin ``PUT/GET /api/admin/workspaces/{sub}/whatsapp`` (docs/api/admin.md): connect, never
leak."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging
from xobito.testing.fake_graph import FakeGraphServer

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SECRETS = ("EAAG-very-secret-token", "app-secret-value", "verify-token-value")
CLOUD = {
    "provider": "cloud",
    "waba_id": "419561257915477",
    "phone_number_ids": ["106540352242922", "106540352242923"],
    "access_token": SECRETS[0],
    "app_secret": SECRETS[1],
    "verify_token": SECRETS[2],
}
RECORD_KEYS = [
    "tenant_id",
    "provider",
    "waba_id",
    "phone_number_ids",
    "primary_phone_number_id",
    "has_access_token",
    "has_app_secret",
    "has_verify_token",
    "app_id",
    "templates_synced_at",
    "created_at",
    "updated_at",
]


def url(t: Tenant) -> str:
    return f"/api/admin/workspaces/{t.workspace.subdomain}/whatsapp"


async def put(
    client: httpx.AsyncClient, t: Tenant, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return await client.put(url(t), json=body, headers=headers)


async def test_connect_cloud_returns_the_record_without_secrets(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    r = await put(client, t, CLOUD, admin_headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["status"], got["message"]) == ("success", "WhatsApp connected successfully")
    record = got["data"]
    assert list(record) == RECORD_KEYS
    assert record | {"created_at": None, "updated_at": None} == {
        "tenant_id": t.workspace.id,
        "provider": "cloud",
        "waba_id": "419561257915477",
        "phone_number_ids": ["106540352242922", "106540352242923"],
        "primary_phone_number_id": "106540352242922",
        "has_access_token": 1,
        "has_app_secret": 1,
        "has_verify_token": 1,
        "app_id": None,
        "templates_synced_at": None,
        "created_at": None,
        "updated_at": None,
    }
    assert TIMESTAMP.match(record["created_at"])
    shown = await client.get(url(t), headers=admin_headers)
    assert shown.status_code == 200
    assert shown.json()["data"] == record
    for response in (r, shown):
        assert not any(secret in response.text for secret in SECRETS)
    ws = await client.get(f"/api/admin/workspaces/{t.workspace.subdomain}", headers=admin_headers)
    assert ws.json()["data"]["whatsapp_provider"] == "cloud"


async def test_new_workspaces_start_on_the_sandbox(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    record = (await client.get(url(t), headers=admin_headers)).json()["data"]
    assert record["provider"] == "sandbox"
    assert len(record["phone_number_ids"]) == 1
    assert record["primary_phone_number_id"] == record["phone_number_ids"][0]
    assert (record["has_access_token"], record["has_app_secret"]) == (0, 0)


async def test_primary_number_can_be_chosen(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    body = {**CLOUD, "primary_phone_number_id": "106540352242923"}
    r = await put(client, t, body, admin_headers)
    assert r.json()["data"]["primary_phone_number_id"] == "106540352242923"


async def test_cloud_needs_every_credential_reported_at_once(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    r = await put(client, t, {"provider": "cloud"}, admin_headers)
    assert r.status_code == 422
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {
            "waba_id": ["The waba id field is required when provider is cloud."],
            "phone_number_ids": ["The phone number ids field is required when provider is cloud."],
            "access_token": ["The access token field is required when provider is cloud."],
            "app_secret": ["The app secret field is required when provider is cloud."],
        },
    }


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"provider": "meta"}, {"provider": ["The selected provider is invalid."]}),
        ({"waba_id": "waba-1"}, {"waba_id": ["The waba id format is invalid."]}),
        (
            {"phone_number_ids": []},
            {"phone_number_ids": ["The phone number ids must have at least 1 items."]},
        ),
        (
            {"phone_number_ids": ["12", "x1"]},
            {"phone_number_ids.1": ["The phone number ids.1 format is invalid."]},
        ),
        (
            {"primary_phone_number_id": "999"},
            {"primary_phone_number_id": ["The selected primary phone number id is invalid."]},
        ),
        (
            {"app_secret": "s" * 256},
            {"app_secret": ["The app secret may not be greater than 255 characters."]},
        ),
    ],
)
async def test_field_rules(
    client: httpx.AsyncClient,
    factory: Factory,
    admin_headers: dict[str, str],
    change: dict[str, Any],
    errors: dict[str, list[str]],
) -> None:
    t = await factory.tenant()
    r = await put(client, t, {**CLOUD, **change}, admin_headers)
    assert r.status_code == 422
    assert r.json()["errors"] == errors
    record = (await client.get(url(t), headers=admin_headers)).json()["data"]
    assert record["provider"] == "sandbox"  # nothing changed


async def test_a_number_owned_by_another_workspace_is_422(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    assert (await put(client, a, CLOUD, admin_headers)).status_code == 200
    body = {**CLOUD, "phone_number_ids": ["106540352249999", "106540352242923"]}
    r = await put(client, b, body, admin_headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "phone_number_ids.1": ["The phone number ids.1 has already been taken."]
    }
    # The owner may connect again with its own numbers.
    assert (await put(client, a, CLOUD, admin_headers)).status_code == 200


async def test_a_number_freed_by_its_owner_can_be_taken(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    assert (await put(client, a, CLOUD, admin_headers)).status_code == 200
    r = await put(client, a, {"provider": "sandbox"}, admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["provider"] == "sandbox"
    assert r.json()["data"]["phone_number_ids"] != CLOUD["phone_number_ids"]
    assert (await put(client, b, CLOUD, admin_headers)).status_code == 200


async def test_reconnecting_without_secrets_keeps_them(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant()
    assert (await put(client, t, CLOUD, admin_headers)).status_code == 200
    body = {k: v for k, v in CLOUD.items() if k != "verify_token"}
    body["phone_number_ids"] = ["106540352242924"]
    r = await put(client, t, body, admin_headers)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["phone_number_ids"] == ["106540352242924"]
    assert data["primary_phone_number_id"] == "106540352242924"
    assert data["has_verify_token"] == 1


async def test_sends_use_the_new_connection(
    client: httpx.AsyncClient, messaging: Messaging, cloud: FakeGraphServer
) -> None:
    ct = await messaging.cloud_tenant(enforce_care_window=False)
    t = ct.tenant
    body = {"phone_number": "+14155551234", "message_body": "Hi"}
    r = await client.post(t.url("/messages/send"), json=body, headers=t.headers)
    assert r.status_code == 200, r.text
    [request] = cloud.requests
    assert request.path == f"/v23.0/{ct.number}/messages"


async def test_unknown_workspace_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for method in ("GET", "PUT"):
        r = await client.request(
            method, "/api/admin/workspaces/nope/whatsapp", json=CLOUD, headers=admin_headers
        )
        assert r.status_code == 404
        assert r.json() == {"status": "error", "message": "Workspace not found"}


async def test_a_workspace_token_or_a_wrong_key_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    for headers in (t.headers, {"Authorization": "Bearer wrong"}, {}):
        r = await client.get(url(t), headers=headers)
        assert r.status_code == 401
        assert r.json() == {"status": "error", "message": "Invalid admin key"}
