from __future__ import annotations

import httpx


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_readyz_reports_database_and_migrations(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["migrations"] == "ok"


async def test_metrics_counts_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert 'xobito_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text


async def test_docs_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/{subdomain}/contacts" in spec["paths"]
    assert "/api/v1/{subdomain}/statuses/{record_id}" in spec["paths"]
