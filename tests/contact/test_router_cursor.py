"""``GET /contacts?cursor=``: opt-in keyset pages (beyond the spec's page numbers)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Factory, Tenant

SPEC_KEYS = {
    "current_page", "data", "first_page_url", "from", "last_page", "last_page_url", "links",
    "next_page_url", "path", "per_page", "prev_page_url", "to", "total",
}  # fmt: skip
CURSOR_KEYS = {"data", "path", "per_page", "next_cursor", "next_page_url"}


async def get(client: httpx.AsyncClient, t: Tenant, **params: Any) -> httpx.Response:
    return await client.get(t.url("/contacts"), params=params, headers=t.headers)


async def labels(factory: Factory, t: Tenant) -> dict[str, int]:
    return {"status_id": (await factory.status(t)).id, "source_id": (await factory.source(t)).id}


async def test_a_scan_meets_every_contact_once_while_contacts_are_added(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(rate_limit_max=1000)
    ids = [(await factory.contact(a, **await labels(factory, a)))["id"] for _ in range(23)]
    seen: list[int] = []
    cursor = "start"
    pages = 0
    while cursor is not None:
        r = await get(client, a, cursor=cursor, per_page=4)
        assert r.status_code == 200, r.text
        page = r.json()["data"]
        assert set(page) == CURSOR_KEYS
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        pages += 1
        if pages <= 3:  # contacts created mid-scan come after the cursor: met once, later
            ids.append((await factory.contact(a, **await labels(factory, a)))["id"])
        if cursor is not None:
            assert page["next_page_url"].endswith(f"cursor={cursor}")
            assert "per_page=4" in page["next_page_url"]
        assert pages < 20
    assert seen == sorted(ids)
    assert len(seen) == len(set(seen)) == 26


async def test_filters_apply_and_other_workspaces_stay_out(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    status = await factory.status(a)
    source = (await factory.source(a)).id
    kept = [
        (await factory.contact(a, status_id=status.id, source_id=source))["id"] for _ in range(3)
    ]
    await factory.contact(a, **await labels(factory, a))
    await factory.contact(b, **await labels(factory, b))
    r = await get(client, a, cursor="start", status_id=status.id, per_page=2)
    first = r.json()["data"]
    assert [c["id"] for c in first["data"]] == kept[:2]
    r = await get(client, a, cursor=first["next_cursor"], status_id=status.id, per_page=2)
    second = r.json()["data"]
    assert [c["id"] for c in second["data"]] == kept[2:]
    assert second["next_cursor"] is None and second["next_page_url"] is None
    # Workspace B's scan, even with A's cursor, never shows A's contacts.
    r = await get(client, b, cursor="start", per_page=50)
    assert all(c["tenant_id"] == b.workspace.id for c in r.json()["data"]["data"])
    r = await get(client, b, cursor=first["next_cursor"], status_id=status.id)
    assert r.json()["data"]["data"] == []


async def test_records_are_the_lists_and_the_default_answer_is_the_spec(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    await factory.contact(a, groups="vip,news", **await labels(factory, a))
    listed = (await get(client, a)).json()["data"]
    assert set(listed) == SPEC_KEYS
    scanned = (await get(client, a, cursor="start")).json()["data"]
    assert scanned["data"] == listed["data"]
    assert scanned["per_page"] == 15


async def test_a_bad_cursor_answers_422(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    for bad in ("x", "Start", "!!", "e30", "eyJhZnRlciI6LTF9", "bnVsbA", "é", "a" * 256):
        r = await get(client, a, cursor=bad)
        assert r.status_code == 422, (bad, r.text)
        body = r.json()
        assert body["message"] == "Validation failed"
        assert list(body["errors"]) == ["cursor"]
