"""Synchronising templates from Meta (docs/api/templates.md, docs/api/admin.md): all cursor pages,
mapping, upserts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant
from tests.message.conftest import ACCESS_TOKEN, CloudTenant, Messaging
from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.meta_templates import make_template, sample_templates


@pytest.fixture
async def ct(messaging: Messaging, cloud: FakeGraphServer) -> CloudTenant:
    return await messaging.cloud_tenant()


async def all_templates(client: httpx.AsyncClient, t: Tenant) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        r = await client.get(t.url(f"/templates?per_page=100&page={page}"), headers=t.headers)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        out.extend(data["data"])
        if data["next_page_url"] is None:
            return out
        page += 1


def many(n: int) -> list[dict[str, Any]]:
    return [
        make_template(f"tpl_{i:03d}", template_id=str(2 * 10**15 + i), body=f"Body {i} {{{{1}}}}")
        for i in range(n)
    ]


async def test_sync_follows_every_cursor_page(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.templates = many(250)
    r = await messaging.sync(ct.tenant)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "success",
        "message": "Templates synchronised successfully",
        "data": {"created": 250, "updated": 0, "total": 250},
    }
    requests = cloud.requests_to("message_templates")
    assert len(requests) == 3
    assert {req.path for req in requests} == {f"/v23.0/{ct.waba_id}/message_templates"}
    assert all(req.query["limit"] == "100" for req in requests)
    assert "after" not in requests[0].query
    assert requests[1].query["after"] != requests[2].query["after"]
    assert all(req.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" for req in requests)
    stored = await all_templates(client, ct.tenant)
    assert [s["template_name"] for s in stored] == [f"tpl_{i:03d}" for i in range(250)]
    assert stored[249]["body_data"] == "Body 249 {{1}}"


async def test_a_transient_failure_on_a_page_is_retried(
    ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.templates = many(150)
    cloud.fail_next(1, code=131000, endpoint="message_templates")
    r = await messaging.sync(ct.tenant)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"created": 150, "updated": 0, "total": 150}
    assert len(cloud.requests_to("message_templates")) == 3


async def test_components_are_mapped(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.templates = [
        *sample_templates(),
        make_template(
            "doc_notice",
            template_id="3000000000000001",
            category="AUTHENTICATION",
            status="REJECTED",
            language="pt_BR",
            header={"format": "DOCUMENT"},
            body="Seu código é {{1}}.",
            body_examples=("1234",),
        ),
    ]
    assert (await messaging.sync(ct.tenant)).status_code == 200
    got = {t["template_name"]: t for t in await all_templates(client, ct.tenant)}
    hello, order, doc = got["hello_world"], got["order_update"], got["doc_notice"]
    assert hello["template_id"] == "1192593412290463"
    assert (hello["language"], hello["status"], hello["category"]) == (
        "en_US",
        "APPROVED",
        "UTILITY",
    )
    assert (hello["header_data_format"], hello["header_data_text"]) == ("TEXT", "Hello World")
    assert (hello["header_params_count"], hello["body_params_count"]) == (0, 0)
    assert hello["body_data"].startswith("Welcome and congratulations!!")
    assert hello["footer_data"] == "WhatsApp Business Platform sample message"
    assert (hello["buttons_data"], hello["body_variable_value"]) == (None, None)
    assert hello["template_type"] == "standard"

    assert (order["category"], order["header_data_format"]) == ("MARKETING", "IMAGE")
    assert (order["header_data_text"], order["header_params_count"]) == (None, 0)
    assert order["body_data"] == "Hello {{1}}, your order {{2}} is confirmed."
    assert order["body_params_count"] == 2
    assert order["body_variable_value"] == ["Jane", "#1234"]
    assert order["footer_data"] == "Reply STOP to opt out"
    assert [b["type"] for b in order["buttons_data"]] == ["URL", "QUICK_REPLY"]
    assert order["buttons_data"][0]["url"] == "https://shop.example.com/track/{{1}}"

    assert (doc["language"], doc["status"], doc["category"]) == (
        "pt_BR",
        "REJECTED",
        "AUTHENTICATION",
    )
    assert (doc["header_data_format"], doc["body_params_count"]) == ("DOCUMENT", 1)


async def test_resync_updates_instead_of_duplicating(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.templates = sample_templates()
    assert (await messaging.sync(ct.tenant)).json()["data"] == {
        "created": 2,
        "updated": 0,
        "total": 2,
    }
    before = {t["template_name"]: t for t in await all_templates(client, ct.tenant)}
    cloud.templates[1] = make_template(
        "order_update",
        template_id="1357924680135792",
        status="PAUSED",
        body="Order {{1}} moved.",
        body_examples=("#1",),
    )
    cloud.templates.append(make_template("fresh", template_id="4000000000000001"))
    r = await messaging.sync(ct.tenant)
    assert r.json()["data"] == {"created": 1, "updated": 2, "total": 3}
    after = {t["template_name"]: t for t in await all_templates(client, ct.tenant)}
    assert set(after) == {"hello_world", "order_update", "fresh"}
    assert after["order_update"]["id"] == before["order_update"]["id"]
    assert after["order_update"]["status"] == "PAUSED"
    assert after["order_update"]["body_data"] == "Order {{1}} moved."
    assert after["order_update"]["body_params_count"] == 1
    assert after["order_update"]["header_data_format"] is None
    assert after["order_update"]["buttons_data"] is None
    assert after["hello_world"] == before["hello_world"] | {
        "updated_at": after["hello_world"]["updated_at"]
    }


async def test_a_meta_failure_stores_nothing(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    cloud.templates = many(150)
    cloud.fail_next(1, code=190, endpoint="message_templates")
    r = await messaging.sync(ct.tenant)
    assert r.status_code == 500
    body = r.json()
    assert body["status"] == "error" and body["message"] == "Failed to sync templates"
    [reason] = body["errors"]["whatsapp"]
    assert reason.startswith("190: ") and "access token" in reason
    assert await all_templates(client, ct.tenant) == []


async def test_sandbox_workspace_gets_the_sandbox_templates(
    client: httpx.AsyncClient, factory: Factory, messaging: Messaging
) -> None:
    t = await factory.tenant()
    r = await messaging.sync(t)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"created": 2, "updated": 0, "total": 2}
    stored = await all_templates(client, t)
    assert {s["template_name"] for s in stored} == {"hello_world", "order_update"}
    assert all(s["status"] == "APPROVED" for s in stored)


async def test_sync_is_per_workspace(
    client: httpx.AsyncClient, ct: CloudTenant, cloud: FakeGraphServer, messaging: Messaging
) -> None:
    other = await messaging.cloud_tenant()
    cloud.templates = sample_templates()
    assert (await messaging.sync(ct.tenant)).status_code == 200
    assert len(await all_templates(client, ct.tenant)) == 2
    assert await all_templates(client, other.tenant) == []


async def test_sync_of_an_unknown_workspace_is_404_and_needs_the_admin_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    r = await client.post("/api/admin/workspaces/nope/templates/sync", headers=admin_headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Workspace not found"}
    r = await client.post(
        "/api/admin/workspaces/nope/templates/sync", headers={"Authorization": "Bearer wrong"}
    )
    assert r.status_code == 401
