"""The operator dependency guarding /api/admin (docs/api/admin.md)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from tests.factories import Factory
from xobito.admin.dependencies import operator
from xobito.app import create_app
from xobito.config import Settings
from xobito.kit.errors import NotFound, Unauthorized

KEY = "test-admin-key"


def request_for(app: FastAPI, session: AsyncSession, authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode("latin-1"))]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/admin/workspaces",
        "headers": headers,
        "app": app,
    }
    request = Request(scope)
    request.state.session = session
    return request


@pytest.mark.parametrize(
    "authorization", [f"Bearer {KEY}", f"bearer {KEY}", f"BEARER {KEY}", f"Bearer {KEY} "]
)
async def test_operator_key_gives_the_request_session(
    app: FastAPI, session: AsyncSession, authorization: str
) -> None:
    assert await operator(request_for(app, session, authorization)) is session


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        KEY,
        f"Basic {KEY}",
        f"Token {KEY}",
        "Bearer test-admin",
        f"Bearer {KEY}x",
        f"Bearer {KEY.upper()}",
        "Bearer tëst-admin-key",
    ],
)
async def test_anything_but_the_operator_key_is_unauthorized(
    app: FastAPI, session: AsyncSession, authorization: str | None
) -> None:
    with pytest.raises(Unauthorized):
        await operator(request_for(app, session, authorization))


@pytest.mark.parametrize("unset", [None, ""])
async def test_without_a_configured_key_the_admin_api_does_not_exist(
    settings: Settings, session: AsyncSession, unset: str | None
) -> None:
    keyless = create_app(settings.model_copy(update={"admin_key": unset}))
    try:
        with pytest.raises(NotFound) as caught:
            await operator(request_for(keyless, session, f"Bearer {KEY}"))
        assert caught.value.message == "Not found"
    finally:
        await keyless.state.engine.dispose()


async def test_unauthorized_over_http_has_the_error_envelope(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/admin/workspaces", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    body = r.json()
    assert body["status"] == "error"
    assert isinstance(body["message"], str) and body["message"]
    assert "errors" not in body


async def test_key_check_precedes_validation_and_lookup(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    """Without the key nothing about the admin API leaks: not 422, not 404."""
    await factory.workspace("acme")
    for method, url in (
        ("POST", "/api/admin/workspaces"),
        ("GET", "/api/admin/workspaces/missing"),
        ("PATCH", "/api/admin/workspaces/acme"),
        ("DELETE", "/api/admin/workspaces/acme/tokens/1"),
    ):
        r = await client.request(method, url, json={"name": "x" * 300})
        assert r.status_code == 401, (method, url)


async def test_workspace_b_gets_404_for_workspace_a_record(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    headers = {"Authorization": f"Bearer {KEY}"}
    url = f"/api/admin/workspaces/{b.workspace.subdomain}/tokens/{a.token_id}"
    assert (await client.delete(url, headers=headers)).status_code == 404


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    assert (await client.get(b.url("/statuses"), headers=a.headers)).status_code == 401
