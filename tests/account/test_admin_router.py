"""Admin API for dashboard users: create (password shown once), list, role, remove,
forced reset and invitation links; workspace B's users are not workspace A's."""

from __future__ import annotations

import httpx

from tests.factories import Factory


async def test_create_list_update_remove(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant("acme")
    base = "/api/admin/workspaces/acme/users"
    r = await client.post(
        base, json={"email": "Ada@Example.com", "role": "owner"}, headers=admin_headers
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["message"] == "User created successfully"
    data = body["data"]
    assert (data["email"], data["role"], data["tenant_id"]) == (
        "ada@example.com",
        "owner",
        t.workspace.id,
    )
    assert data["password"] and data["existing_account"] == 0
    ada = data["id"]
    r = await client.post(
        base,
        json={"email": "bo@example.com", "role": "agent", "password": "bo-password"},
        headers=admin_headers,
    )
    assert r.json()["data"]["password"] is None  # given, so not echoed
    bo = r.json()["data"]["id"]

    listed = (await client.get(base, headers=admin_headers)).json()["data"]
    assert [(u["email"], u["role"]) for u in listed] == [
        ("ada@example.com", "owner"),
        ("bo@example.com", "agent"),
    ]
    assert all("password" not in u and "password_hash" not in u for u in listed)

    r = await client.patch(f"{base}/{bo}", json={"role": "owner"}, headers=admin_headers)
    assert (r.status_code, r.json()["data"]["role"]) == (200, "owner")
    r = await client.patch(f"{base}/{bo}", json={"role": "boss"}, headers=admin_headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {"role": ["The selected role is invalid."]}
    assert (await client.delete(f"{base}/{bo}", headers=admin_headers)).status_code == 200
    r = await client.delete(f"{base}/{ada}", headers=admin_headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {"member": ["A workspace needs at least one owner."]}


async def test_users_of_another_workspace_are_404(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    await factory.tenant("acme")
    b = await factory.tenant("globex")
    theirs = await factory.user(b.workspace, "agent")
    base = "/api/admin/workspaces/acme/users"
    for r in (
        await client.patch(f"{base}/{theirs.id}", json={"role": "admin"}, headers=admin_headers),
        await client.delete(f"{base}/{theirs.id}", headers=admin_headers),
        await client.post(f"{base}/{theirs.id}/password-reset", headers=admin_headers),
    ):
        assert r.status_code == 404
        assert r.json() == {"status": "error", "message": "Member not found"}
    r = await client.get("/api/admin/workspaces/nowhere/users", headers=admin_headers)
    assert r.json() == {"status": "error", "message": "Workspace not found"}
    r = await client.get(base)
    assert r.status_code == 401


async def test_invitation_and_reset_links(
    client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> None:
    t = await factory.tenant("acme")
    user = await factory.user(t.workspace, "agent", "g@example.com")
    r = await client.post(
        "/api/admin/workspaces/acme/invitations",
        json={"email": "new@example.com", "role": "admin"},
        headers=admin_headers,
    )
    assert r.status_code == 201
    url = r.json()["data"]["url"]
    assert url.startswith("http://testserver/app/invite/")
    page = await client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200 and "Join Test" in page.text
    r = await client.post(
        f"/api/admin/workspaces/acme/users/{user.id}/password-reset", headers=admin_headers
    )
    assert r.status_code == 200
    link = r.json()["data"]["url"]
    assert link.startswith("http://testserver/app/reset/")
    page = await client.get(link.removeprefix("http://testserver"))
    assert page.status_code == 200 and "g@example.com" in page.text
