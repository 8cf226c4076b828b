"""Admin API: a workspace's API tokens (docs/api/admin.md, docs/api/authentication.md Tokens)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant
from xobito.auth.abilities import ABILITIES
from xobito.kit.time import iso, utcnow

TOKEN = re.compile(r"^apitk_[A-Za-z0-9]{64}$")
SPEC_ABILITIES = [
    *(
        f"{res}.{act}"
        for res in ("contacts", "statuses", "sources", "groups")
        for act in ("create", "read", "update", "delete")
    ),
    "templates.read",
    "templatebots.read",
    "messagebots.read",
    "messages.send",
]


def tokens_url(tenant: Tenant, suffix: str = "") -> str:
    return f"/api/admin/workspaces/{tenant.workspace.subdomain}/tokens{suffix}"


async def create(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: Tenant, **fields: Any
) -> httpx.Response:
    body = {"name": "integration", "abilities": ["contacts.read"], **fields}
    return await client.post(tokens_url(tenant), headers=admin, json=body)


async def test_create_token_returns_plaintext_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    r = await create(
        client,
        admin_headers,
        tenant,
        abilities=["contacts.read", "statuses.read", "contacts.read"],
        rate_limit_max=500,
        monthly_quota=1000,
    )
    assert r.status_code == 201, r.text
    payload = r.json()
    assert payload["status"] == "success"
    assert payload["message"] == "Token created successfully"
    data = payload["data"]
    plaintext = data["token"]
    assert TOKEN.match(plaintext)
    assert data["token_prefix"] == plaintext[:10]
    assert data["tenant_id"] == tenant.workspace.id
    assert data["name"] == "integration"
    assert data["abilities"] == ["contacts.read", "statuses.read"]
    assert data["rate_limit_max"] == 500
    assert data["monthly_quota"] == 1000
    assert data["is_active"] == 1
    assert data["expires_at"] is None
    assert data["last_used_at"] is None
    assert "token_hash" not in data

    # it works on the workspace's API, with exactly its abilities
    ok = await client.get(tenant.url("/contacts"), headers={"Authorization": f"Bearer {plaintext}"})
    assert ok.status_code == 200
    assert ok.headers["X-RateLimit-Limit"] == "500"
    denied = await client.get(
        tenant.url("/groups"), headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert denied.status_code == 403

    # the list never shows it again, nor its hash
    listed = await client.get(tokens_url(tenant), headers=admin_headers)
    assert listed.status_code == 200
    assert plaintext not in listed.text
    assert plaintext[10:] not in listed.text
    for record in listed.json()["data"]:
        assert "token" not in record
        assert "token_hash" not in record
    mine = [t for t in listed.json()["data"] if t["id"] == data["id"]]
    assert mine[0]["token_prefix"] == plaintext[:10]
    assert mine[0]["last_used_at"] is not None


async def test_two_tokens_differ(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    first = (await create(client, admin_headers, tenant)).json()["data"]["token"]
    second = (await create(client, admin_headers, tenant)).json()["data"]["token"]
    assert first != second


async def test_list_tokens_in_id_order(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    await create(client, admin_headers, tenant, name="second")
    await create(client, admin_headers, tenant, name="third")
    r = await client.get(tokens_url(tenant), headers=admin_headers)
    assert r.status_code == 200
    assert [t["name"] for t in r.json()["data"]] == ["test", "second", "third"]
    assert [t["id"] for t in r.json()["data"]] == sorted(t["id"] for t in r.json()["data"])


async def test_unknown_ability_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    r = await create(
        client, admin_headers, tenant, abilities=["contacts.read", "contacts.write", "admin"]
    )
    assert r.status_code == 422
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {
            "abilities.1": ["The selected abilities.1 is invalid."],
            "abilities.2": ["The selected abilities.2 is invalid."],
        },
    }
    listed = (await client.get(tokens_url(tenant), headers=admin_headers)).json()["data"]
    assert len(listed) == 1  # only the factory's token


@pytest.mark.parametrize(
    ("abilities", "message"),
    [
        ([], "The abilities must have at least 1 items."),
        (None, "The abilities field is required."),
        ("contacts.read", "The abilities must be an array."),
    ],
)
async def test_abilities_must_be_a_non_empty_list(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    factory: Factory,
    abilities: Any,
    message: str,
) -> None:
    tenant = await factory.tenant()
    r = await create(client, admin_headers, tenant, abilities=abilities)
    assert r.status_code == 422
    assert r.json()["errors"] == {"abilities": [message]}


async def test_every_spec_ability_is_accepted(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    r = await create(client, admin_headers, tenant, abilities=SPEC_ABILITIES)
    assert r.status_code == 201
    assert r.json()["data"]["abilities"] == SPEC_ABILITIES
    # Beyond Xobito v1: the team inbox's conversations, campaigns (issue 13).
    campaigns = {f"campaigns.{act}" for act in ("create", "read", "update", "delete")}
    assert set(ABILITIES) == {*SPEC_ABILITIES, "chats.read", "chats.update", *campaigns}


async def test_name_rules(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    r = await client.post(
        tokens_url(tenant), headers=admin_headers, json={"abilities": ["contacts.read"]}
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"name": ["The name field is required."]}
    r = await create(client, admin_headers, tenant, name="n" * 256)
    assert r.json()["errors"] == {"name": ["The name may not be greater than 255 characters."]}


async def test_expires_at_must_be_in_the_future(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    past = iso(utcnow() - timedelta(minutes=1))
    r = await create(client, admin_headers, tenant, expires_at=past)
    assert r.status_code == 422
    assert r.json()["errors"] == {"expires_at": ["The expires at must be a date after now."]}
    future = utcnow() + timedelta(days=30)
    r = await create(client, admin_headers, tenant, expires_at=iso(future))
    assert r.status_code == 201
    assert r.json()["data"]["expires_at"] == iso(future)
    plaintext = r.json()["data"]["token"]
    ok = await client.get(tenant.url("/contacts"), headers={"Authorization": f"Bearer {plaintext}"})
    assert ok.status_code == 200


async def test_expires_at_must_be_a_date(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    r = await create(client, admin_headers, tenant, expires_at="next tuesday")
    assert r.status_code == 422
    assert list(r.json()["errors"]) == ["expires_at"]


async def test_create_for_unknown_workspace_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    url = "/api/admin/workspaces/nope/tokens"
    for method in ("GET", "POST"):
        r = await client.request(
            method, url, headers=admin_headers, json={"name": "x", "abilities": ["contacts.read"]}
        )
        assert r.status_code == 404
        assert r.json() == {"status": "error", "message": "Workspace not found"}


async def test_revoke_token(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    other = (await create(client, admin_headers, tenant)).json()["data"]
    assert (await client.get(tenant.url("/contacts"), headers=tenant.headers)).status_code == 200

    r = await client.delete(tokens_url(tenant, f"/{tenant.token_id}"), headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Token revoked successfully"
    assert r.json()["data"]["is_active"] == 0
    assert "token" not in r.json()["data"]

    refused = await client.get(tenant.url("/contacts"), headers=tenant.headers)
    assert refused.status_code == 401
    assert refused.json() == {"status": "error", "message": "Invalid API token"}
    listed = {
        t["id"]: t
        for t in (await client.get(tokens_url(tenant), headers=admin_headers)).json()["data"]
    }
    assert listed[tenant.token_id]["is_active"] == 0
    assert listed[other["id"]]["is_active"] == 1
    still = await client.get(
        tenant.url("/contacts"), headers={"Authorization": f"Bearer {other['token']}"}
    )
    assert still.status_code == 200


async def test_revoke_unknown_token_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    for token_id in ("999999", "0", "abc", "99999999999999"):
        r = await client.delete(tokens_url(tenant, f"/{token_id}"), headers=admin_headers)
        assert r.status_code == 404, token_id
        assert r.json()["status"] == "error"
    r = await client.delete(tokens_url(tenant, "/999999"), headers=admin_headers)
    assert r.json()["message"] == "Token not found"


async def test_workspace_b_gets_404_for_workspace_a_token(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.delete(tokens_url(b, f"/{a.token_id}"), headers=admin_headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Token not found"}
    # A's token is untouched and B's list does not show it
    assert (await client.get(a.url("/contacts"), headers=a.headers)).status_code == 200
    ids = [t["id"] for t in (await client.get(tokens_url(b), headers=admin_headers)).json()["data"]]
    assert ids == [b.token_id]


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    plaintext = (await create(client, admin_headers, a)).json()["data"]["token"]
    r = await client.get(b.url("/contacts"), headers={"Authorization": f"Bearer {plaintext}"})
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_token_endpoints_need_the_operator_key(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    for method, url in (
        ("GET", tokens_url(tenant)),
        ("POST", tokens_url(tenant)),
        ("DELETE", tokens_url(tenant, f"/{tenant.token_id}")),
    ):
        r = await client.request(method, url, headers=tenant.headers)
        assert r.status_code == 401, (method, url)
    assert (await client.get(tenant.url("/contacts"), headers=tenant.headers)).status_code == 200
