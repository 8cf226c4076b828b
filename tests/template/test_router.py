"""``GET /templates`` and ``GET /templates/{id}`` (docs/api/templates.md): read-only, per
workspace."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
RECORD_KEYS = [
    "id",
    "tenant_id",
    "template_id",
    "template_name",
    "language",
    "status",
    "category",
    "header_data_format",
    "header_data_text",
    "header_params_count",
    "body_data",
    "body_params_count",
    "footer_data",
    "footer_params_count",
    "buttons_data",
    "header_file_url",
    "header_variable_value",
    "body_variable_value",
    "template_type",
    "cards_json",
    "created_at",
    "updated_at",
]
NOT_FOUND = {"status": "error", "message": "Template not found"}
BUTTONS = [
    {"type": "URL", "text": "Track", "url": "https://shop.example.com/t/{{1}}"},
    {"type": "QUICK_REPLY", "text": "Stop"},
]


async def listing(client: httpx.AsyncClient, t: Tenant, query: str = "") -> httpx.Response:
    return await client.get(t.url(f"/templates{query}"), headers=t.headers)


async def test_record_has_every_field(
    client: httpx.AsyncClient, factory: Factory, messaging: Messaging
) -> None:
    t = await factory.tenant()
    row = await messaging.template(
        t,
        "order_update",
        template_id="1357924680135792",
        category="MARKETING",
        header={"format": "TEXT", "text": "Order {{1}}"},
        body="Hi {{1}}, order {{2}} ships {{1}}.",
        footer="Reply STOP",
        buttons=BUTTONS,
    )
    r = await client.get(t.url(f"/templates/{row.id}"), headers=t.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert list(got) == ["status", "data"]
    record = got["data"]
    assert list(record) == RECORD_KEYS
    assert record | {"created_at": None, "updated_at": None} == {
        "id": row.id,
        "tenant_id": t.workspace.id,
        "template_id": "1357924680135792",
        "template_name": "order_update",
        "language": "en_US",
        "status": "APPROVED",
        "category": "MARKETING",
        "header_data_format": "TEXT",
        "header_data_text": "Order {{1}}",
        "header_params_count": 1,
        "body_data": "Hi {{1}}, order {{2}} ships {{1}}.",
        "body_params_count": 2,
        "footer_data": "Reply STOP",
        "footer_params_count": 0,
        "buttons_data": BUTTONS,
        "header_file_url": None,
        "header_variable_value": None,
        "body_variable_value": ["Jane", "#1234"],
        "template_type": "standard",
        "cards_json": None,
        "created_at": None,
        "updated_at": None,
    }
    assert TIMESTAMP.match(record["created_at"]) and TIMESTAMP.match(record["updated_at"])


async def test_list_is_a_paginator_ordered_by_id(
    client: httpx.AsyncClient, factory: Factory, messaging: Messaging
) -> None:
    t = await factory.tenant()
    rows = [await messaging.template(t, f"tpl_{n}", template_id=str(10**15 + n)) for n in range(3)]
    base = f"http://testserver/api/v1/{t.workspace.subdomain}/templates"
    r = await listing(client, t, "?per_page=2")
    assert r.status_code == 200, r.text
    got = r.json()
    assert list(got) == ["status", "data"]
    page: dict[str, Any] = got["data"]
    assert list(page) == [
        "current_page",
        "data",
        "first_page_url",
        "from",
        "last_page",
        "last_page_url",
        "links",
        "next_page_url",
        "path",
        "per_page",
        "prev_page_url",
        "to",
        "total",
    ]
    assert [x["id"] for x in page["data"]] == [rows[0].id, rows[1].id]
    assert all(list(x) == RECORD_KEYS for x in page["data"])
    assert (page["from"], page["to"], page["total"], page["last_page"]) == (1, 2, 3, 2)
    assert page["path"] == base
    assert page["next_page_url"] == f"{base}?per_page=2&page=2"
    second = (await listing(client, t, "?per_page=2&page=2")).json()["data"]
    assert [x["template_name"] for x in second["data"]] == ["tpl_2"]


async def test_empty_list_and_per_page_limit(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant()
    page = (await listing(client, t)).json()["data"]
    assert (page["data"], page["total"], page["from"], page["per_page"]) == ([], 0, None, 15)
    r = await listing(client, t, "?per_page=101")
    assert r.status_code == 422
    assert r.json()["errors"] == {"per_page": ["The per page may not be greater than 100."]}


async def test_unknown_template_is_404(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant()
    for ident in ("999", "abc"):
        r = await client.get(t.url(f"/templates/{ident}"), headers=t.headers)
        assert r.status_code == 404
        assert r.json() == NOT_FOUND


async def test_workspace_b_gets_404_for_workspace_a_template(
    client: httpx.AsyncClient, factory: Factory, messaging: Messaging
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    row = await messaging.template(a, "only_a")
    r = await client.get(b.url(f"/templates/{row.id}"), headers=b.headers)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    assert (await listing(client, b)).json()["data"]["total"] == 0


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.get(b.url("/templates"), headers=a.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_reading_templates_needs_templates_read(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(abilities=["messages.send"])
    r = await listing(client, t)
    assert r.status_code == 403
    assert r.json() == {
        "status": "error",
        "message": "Token does not have the required ability: templates.read",
    }


async def test_templates_are_read_only(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant()
    r = await client.post(t.url("/templates"), json={"template_name": "x"}, headers=t.headers)
    assert r.status_code == 405
    assert r.json()["status"] == "error"
