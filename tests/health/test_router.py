"""Operations endpoints (docs/deployment.md): /healthz, /readyz, /metrics, /docs, /openapi.json."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.backends import Backend
from tests.factories import Factory
from xobito import __version__
from xobito.app import create_app
from xobito.config import Settings


@asynccontextmanager
async def other_app(settings: Settings, **changes: object) -> AsyncIterator[httpx.AsyncClient]:
    """A second app, with some settings changed, and a client for it."""
    app = create_app(settings.model_copy(update=changes))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.engine.dispose()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


# -- health and readiness -------------------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": __version__}


async def test_openapi_info_version_is_the_package_version(client: httpx.AsyncClient) -> None:
    info = (await client.get("/openapi.json")).json()["info"]
    assert info["version"] == __version__


async def test_readyz_reports_database_and_migrations(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    if backend.redis_url:
        assert body["checks"]["redis"] == "ok"
    else:
        assert "redis" not in body["checks"]


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite+aiosqlite:////nonexistent-xobito-dir/missing/xobito.db",
        "postgresql+asyncpg://postgres@127.0.0.1:1/xobito",
    ],
    ids=["sqlite-missing-dir", "postgres-closed-port"],
)
async def test_readyz_is_503_when_the_database_is_unreachable(
    settings: Settings, database_url: str
) -> None:
    async with other_app(settings, database_url=database_url) as c:
        r = await c.get("/readyz")
        assert r.status_code == 503
        body = r.json()
        assert body["status"] == "error"
        assert body["checks"]["database"].startswith("unreachable")
        # the process itself is still up
        assert (await c.get("/healthz")).status_code == 200


async def test_readyz_is_503_when_migrations_are_not_applied(
    settings: Settings, tmp_path: Path
) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    async with other_app(settings, database_url=empty, redis_url=None) as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["migrations"] != "ok"
    assert "expected" in checks["migrations"]


async def test_readyz_is_503_when_redis_is_unreachable(settings: Settings) -> None:
    async with other_app(settings, redis_url="redis://127.0.0.1:1/0") as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"].startswith("unreachable")


# -- metrics ------------------------------------------------------------------------------------


async def test_metrics_counts_requests_by_route_template_and_status(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    contact = await factory.contact(tenant)
    requests_total = "xobito_http_requests_total"
    list_route = "/api/v1/{subdomain}/contacts"
    show_route = "/api/v1/{subdomain}/contacts/{contact_id}"
    before = (await client.get("/metrics")).text

    for _ in range(3):
        assert (await client.get(tenant.url("/contacts"), headers=tenant.headers)).is_success
    assert (await client.get(tenant.url("/contacts"))).status_code == 401
    show = await client.get(tenant.url(f"/contacts/{contact['id']}"), headers=tenant.headers)
    assert show.status_code == 200
    assert (await client.get("/no/such/route")).status_code == 404

    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = r.text

    def delta(**labels: str) -> float:
        return metric(after, requests_total, **labels) - metric(before, requests_total, **labels)

    assert delta(method="GET", route=list_route, status="200") == 3
    assert delta(method="GET", route=list_route, status="401") == 1
    assert delta(method="GET", route=show_route, status="200") == 1
    assert delta(method="GET", route="unmatched", status="404") == 1
    # the concrete path (subdomain, id) never becomes a label value
    assert tenant.workspace.subdomain not in after
    assert f"/contacts/{contact['id']}" not in after
    latency = "xobito_http_request_duration_seconds_count"
    assert (
        metric(after, latency, method="GET", route=list_route)
        - metric(before, latency, method="GET", route=list_route)
        == 4
    )


async def test_metrics_declares_the_spec_series(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    for name in (
        "xobito_http_requests_total",
        "xobito_http_request_duration_seconds",
        "xobito_whatsapp_sends_total",
        "xobito_webhook_deliveries_total",
        "xobito_queue_depth",
        "xobito_queue_oldest_age_seconds",
    ):
        assert re.search(rf"^# HELP {name} ", text, re.M), name


# -- documentation --------------------------------------------------------------------------------


def spec_v1_operations() -> set[tuple[str, str]]:
    """The v1 routes of docs/api/contacts.md, docs/api/messages.md, as (method, path template)."""
    ops = {
        ("GET", "/templates"),
        ("POST", "/messages/send"),
        ("POST", "/messages/template"),
        ("POST", "/messages/media"),
        ("GET", "/messages/{message_id}/status"),
        ("POST", "/phone/validate"),
    }
    for plural, record in (
        ("contacts", "{contact_id}"),
        ("statuses", "{record_id}"),
        ("sources", "{record_id}"),
        ("groups", "{record_id}"),
    ):
        ops |= {("GET", f"/{plural}"), ("POST", f"/{plural}")}
        ops |= {(m, f"/{plural}/{record}") for m in ("GET", "PUT", "DELETE")}
    return {(m, "/api/v1/{subdomain}" + p) for m, p in ops}


async def test_openapi_covers_every_route(client: httpx.AsyncClient, app: FastAPI) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert spec_v1_operations() <= documented
    admin = {
        ("POST", "/api/admin/workspaces"),
        ("GET", "/api/admin/workspaces"),
        ("GET", "/api/admin/workspaces/{subdomain}"),
        ("PATCH", "/api/admin/workspaces/{subdomain}"),
        ("POST", "/api/admin/workspaces/{subdomain}/tokens"),
        ("GET", "/api/admin/workspaces/{subdomain}/tokens"),
        ("DELETE", "/api/admin/workspaces/{subdomain}/tokens/{token_id}"),
    }
    assert admin <= documented
    assert {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")} <= documented
    # and every route the app serves is documented, nothing more
    served = {
        (method, context.path.replace(":path}", "}"))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.original_route.include_in_schema
        for method in context.methods or ()
    }
    assert served == documented


async def test_openapi_documents_the_envelopes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for method, path in spec_v1_operations():
        op = paths[path][method.lower()]
        codes = set(op["responses"])
        assert {"401", "422", "429"} <= codes, (method, path, codes)
        success = next(c for c in codes if c.startswith("2"))
        schema = op["responses"][success]["content"]["application/json"]["schema"]
        assert schema["type"] == "object", (method, path)
        assert schema["properties"]["status"]["enum"] == ["success"]
        unauthorized = op["responses"]["401"]["content"]["application/json"]["schema"]
        assert set(unauthorized["properties"]["message"]["enum"]) == {
            "API token is required",
            "Invalid API token",
        }
        if method in ("POST", "PUT"):
            assert "requestBody" in op, (method, path)
    contacts = paths["/api/v1/{subdomain}/contacts"]
    assert set(contacts["post"]["responses"]) >= {"201", "422"}
    page = contacts["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "message" not in page["properties"]
    # The spec's length-aware page, or the opt-in keyset page (``?cursor=``).
    spec_page, keyset_page = page["properties"]["data"]["anyOf"]
    assert spec_page["required"][:2] == ["current_page", "data"]
    assert set(keyset_page["required"]) == {
        "data",
        "path",
        "per_page",
        "next_cursor",
        "next_page_url",
    }
