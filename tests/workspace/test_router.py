"""Admin API: workspaces (docs/api/admin.md), operator key, validation, settings changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.factories import Factory
from xobito.app import create_app
from xobito.config import Settings

WS = "/api/admin/workspaces"


def body(**fields: Any) -> dict[str, Any]:
    return {"subdomain": "acme", "name": "Acme Ltd", **fields}


@pytest.fixture
async def keyless(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose operator key is unset: the admin API does not exist there."""
    app = create_app(settings.model_copy(update={"admin_key": None}))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.engine.dispose()


# -- operator key ---------------------------------------------------------------------------


async def test_admin_api_is_404_without_configured_key(
    keyless: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for method, url in [("GET", WS), ("POST", WS), ("GET", f"{WS}/acme/tokens")]:
        r = await keyless.request(method, url, headers=admin_headers, json=body())
        assert r.status_code == 404, (method, url)
        assert r.json() == {"status": "error", "message": "Not found"}
    assert (await keyless.get(WS)).status_code == 404


async def test_admin_api_is_401_without_or_with_wrong_key(client: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": "test-admin-key"},
        {"Authorization": "Basic test-admin-key"},
    ):
        r = await client.get(WS, headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["status"] == "error"
        r = await client.post(WS, headers=headers, json=body())
        assert r.status_code == 401
    # nothing was created by the refused POSTs
    assert (await client.get(WS, headers={"Authorization": "Bearer test-admin-key"})).json()[
        "data"
    ] == []


async def test_api_token_is_not_an_admin_key(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    r = await client.get(WS, headers=tenant.headers)
    assert r.status_code == 401


# -- create -----------------------------------------------------------------------------------


async def test_create_workspace(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    r = await client.post(
        WS,
        headers=admin_headers,
        json=body(max_contacts=10, rate_limit_max=5, rate_limit_decay=2, enforce_care_window=False),
    )
    assert r.status_code == 201, r.text
    payload = r.json()
    assert payload["status"] == "success"
    assert payload["message"] == "Workspace created successfully"
    data = payload["data"]
    assert isinstance(data["id"], int)
    assert data["subdomain"] == "acme"
    assert data["name"] == "Acme Ltd"
    assert data["max_contacts"] == 10
    assert data["rate_limit_max"] == 5
    assert data["rate_limit_decay"] == 2
    assert data["enforce_care_window"] == 0
    assert data["created_at"].endswith("Z")
    shown = await client.get(f"{WS}/acme", headers=admin_headers)
    assert shown.json()["data"] == data


async def test_create_workspace_defaults(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    r = await client.post(WS, headers=admin_headers, json=body())
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["max_contacts"] is None
    assert data["rate_limit_max"] == 60
    assert data["rate_limit_decay"] == 1
    assert data["enforce_care_window"] == 1
    assert data["whatsapp_provider"] == "sandbox"


async def test_subdomain_of_63_characters_is_accepted(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    subdomain = "a-" + "b" * 60 + "9"
    assert len(subdomain) == 63
    r = await client.post(WS, headers=admin_headers, json=body(subdomain=subdomain))
    assert r.status_code == 201, r.text
    assert (await client.get(f"{WS}/{subdomain}", headers=admin_headers)).status_code == 200


@pytest.mark.parametrize("subdomain", ["a" * 64, "Acme", "ac_me", "ac me", "acmé", "a.b"])
async def test_invalid_subdomain_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str], subdomain: str
) -> None:
    r = await client.post(WS, headers=admin_headers, json=body(subdomain=subdomain))
    assert r.status_code == 422
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {"subdomain": ["The subdomain format is invalid."]},
    }
    assert (await client.get(WS, headers=admin_headers)).json()["data"] == []


async def test_duplicate_subdomain_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (await client.post(WS, headers=admin_headers, json=body())).status_code == 201
    r = await client.post(WS, headers=admin_headers, json=body(name="Other"))
    assert r.status_code == 422
    assert r.json()["errors"] == {"subdomain": ["The subdomain has already been taken."]}
    assert len((await client.get(WS, headers=admin_headers)).json()["data"]) == 1


async def test_name_is_required_and_at_most_255(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    r = await client.post(WS, headers=admin_headers, json={"subdomain": "acme"})
    assert r.status_code == 422
    assert r.json()["errors"] == {"name": ["The name field is required."]}
    r = await client.post(WS, headers=admin_headers, json=body(name="x" * 256))
    assert r.status_code == 422
    assert r.json()["errors"] == {"name": ["The name may not be greater than 255 characters."]}
    r = await client.post(WS, headers=admin_headers, json=body(name="x" * 255))
    assert r.status_code == 201


async def test_all_failing_fields_reported_at_once(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    r = await client.post(WS, headers=admin_headers, json={"rate_limit_max": 0})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "subdomain": ["The subdomain field is required."],
        "name": ["The name field is required."],
        "rate_limit_max": ["The rate limit max must be at least 1."],
    }


async def test_malformed_json_is_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "Content-Type": "application/json"}
    r = await client.post(WS, headers=headers, content=b'{"subdomain": ')
    assert r.status_code == 422
    assert r.json()["errors"] == {"body": ["The request body must be valid JSON."]}


# -- list / read --------------------------------------------------------------------------------


async def test_list_workspaces_in_id_order(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for sub in ("zeta", "alpha", "mid"):
        assert (await client.post(WS, headers=admin_headers, json=body(subdomain=sub))).is_success
    r = await client.get(WS, headers=admin_headers)
    assert r.status_code == 200
    payload = r.json()
    assert payload["status"] == "success"
    assert [w["subdomain"] for w in payload["data"]] == ["zeta", "alpha", "mid"]


async def test_read_unknown_workspace_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for method in ("GET", "PATCH"):
        r = await client.request(method, f"{WS}/nope", headers=admin_headers, json={"name": "x"})
        assert r.status_code == 404
        assert r.json() == {"status": "error", "message": "Workspace not found"}


# -- update -------------------------------------------------------------------------------------


async def test_patch_changes_only_given_fields(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = (
        await client.post(WS, headers=admin_headers, json=body(max_contacts=5, rate_limit_max=7))
    ).json()["data"]
    r = await client.patch(f"{WS}/acme", headers=admin_headers, json={"name": "Renamed"})
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Workspace updated successfully"
    data = r.json()["data"]
    assert data["name"] == "Renamed"
    unchanged = {k: v for k, v in created.items() if k not in ("name", "updated_at")}
    assert {k: v for k, v in data.items() if k not in ("name", "updated_at")} == unchanged
    r = await client.patch(
        f"{WS}/acme",
        headers=admin_headers,
        json={"max_contacts": None, "enforce_care_window": False, "rate_limit_decay": 3},
    )
    data = r.json()["data"]
    assert data["max_contacts"] is None
    assert data["enforce_care_window"] == 0
    assert data["rate_limit_decay"] == 3
    assert data["rate_limit_max"] == 7
    assert data["name"] == "Renamed"
    assert (await client.get(f"{WS}/acme", headers=admin_headers)).json()["data"] == data


async def test_patch_validation(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    await client.post(WS, headers=admin_headers, json=body())
    r = await client.patch(
        f"{WS}/acme", headers=admin_headers, json={"name": "x" * 256, "rate_limit_max": 0}
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "name": ["The name may not be greater than 255 characters."],
        "rate_limit_max": ["The rate limit max must be at least 1."],
    }
    assert (await client.get(f"{WS}/acme", headers=admin_headers)).json()["data"]["name"] == (
        "Acme Ltd"
    )


async def test_rate_limit_change_applies_to_next_request(
    client: httpx.AsyncClient, admin_headers: dict[str, str], factory: Factory
) -> None:
    tenant = await factory.tenant()
    first = await client.get(tenant.url("/statuses"), headers=tenant.headers)
    assert first.headers["X-RateLimit-Limit"] == "60"
    r = await client.patch(
        f"{WS}/{tenant.workspace.subdomain}", headers=admin_headers, json={"rate_limit_max": 2}
    )
    assert r.status_code == 200
    second = await client.get(tenant.url("/statuses"), headers=tenant.headers)
    assert second.status_code == 200
    assert second.headers["X-RateLimit-Limit"] == "2"
    # the request already counted in this window still counts against the new limit
    assert second.headers["X-RateLimit-Remaining"] == "0"
    third = await client.get(tenant.url("/statuses"), headers=tenant.headers)
    assert third.status_code == 429
    assert third.json()["message"] == "Too many requests"


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.get(b.url("/contacts"), headers=a.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
    # an admin change to B is not visible as A's settings
    await client.patch(
        f"{WS}/{b.workspace.subdomain}", headers=admin_headers, json={"name": "B only"}
    )
    shown = await client.get(f"{WS}/{a.workspace.subdomain}", headers=admin_headers)
    assert shown.json()["data"]["name"] == "Test"
