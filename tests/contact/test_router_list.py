"""``GET /contacts``: the paginator (docs/api/README.md) and the list filters
(docs/api/contacts.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.factories import Factory, Tenant
from xobito.models import Contact


async def listing(
    client: httpx.AsyncClient, tenant: Tenant, query: str = ""
) -> tuple[int, dict[str, Any]]:
    r = await client.get(tenant.url(f"/contacts{query}"), headers=tenant.headers)
    return r.status_code, r.json()


async def page_data(client: httpx.AsyncClient, tenant: Tenant, query: str = "") -> dict[str, Any]:
    status, body = await listing(client, tenant, query)
    assert status == 200, body
    assert list(body) == ["status", "data"]  # lists have no message
    assert body["status"] == "success"
    data: dict[str, Any] = body["data"]
    return data


async def ids(client: httpx.AsyncClient, tenant: Tenant, query: str) -> list[int]:
    return [c["id"] for c in (await page_data(client, tenant, query))["data"]]


async def many(factory: Factory, tenant: Tenant, n: int) -> list[dict[str, Any]]:
    status = await factory.status(tenant)
    source = await factory.source(tenant)
    return [
        await factory.contact(tenant, status_id=status.id, source_id=source.id) for _ in range(n)
    ]


async def test_empty_list(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    base = f"http://testserver/api/v1/{a.workspace.subdomain}/contacts"
    data = await page_data(client, a)
    assert data == {
        "current_page": 1,
        "data": [],
        "first_page_url": f"{base}?page=1",
        "from": None,
        "last_page": 1,
        "last_page_url": f"{base}?page=1",
        "links": [
            {"url": None, "label": "&laquo; Previous", "active": False},
            {"url": f"{base}?page=1", "label": "1", "active": True},
            {"url": None, "label": "Next &raquo;", "active": False},
        ],
        "next_page_url": None,
        "path": base,
        "per_page": 15,
        "prev_page_url": None,
        "to": None,
        "total": 0,
    }


async def test_defaults_to_15_per_page_ordered_by_id(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    made = await many(factory, a, 17)
    base = f"http://testserver/api/v1/{a.workspace.subdomain}/contacts"
    first = await page_data(client, a)
    assert first["per_page"] == 15
    assert [c["id"] for c in first["data"]] == [c["id"] for c in made[:15]]
    assert first["data"][0] == made[0]  # full records in the list
    assert (first["from"], first["to"], first["total"], first["last_page"]) == (1, 15, 17, 2)
    assert first["next_page_url"] == f"{base}?page=2"
    assert first["prev_page_url"] is None
    second = await page_data(client, a, "?page=2")
    assert [c["id"] for c in second["data"]] == [c["id"] for c in made[15:]]
    assert (second["from"], second["to"], second["total"]) == (16, 17, 17)
    assert second["prev_page_url"] == f"{base}?page=1"
    assert second["next_page_url"] is None
    assert [link["active"] for link in second["links"]] == [False, False, True, False]


async def test_order_is_by_id_after_deletes_and_updates(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    made = await many(factory, a, 4)
    await client.delete(a.url(f"/contacts/{made[1]['id']}"), headers=a.headers)
    body = {"firstname": "Aaa", "lastname": "A", "phone": made[3]["phone"], "type": "lead"}
    await client.put(a.url(f"/contacts/{made[3]['id']}"), json=body, headers=a.headers)
    assert await ids(client, a, "") == [made[0]["id"], made[2]["id"], made[3]["id"]]


async def test_per_page_is_kept_in_urls_only_when_given(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    await many(factory, a, 5)
    base = f"http://testserver/api/v1/{a.workspace.subdomain}/contacts"
    data = await page_data(client, a, "?per_page=2&page=2")
    assert data["per_page"] == 2
    assert (data["from"], data["to"], data["last_page"], data["total"]) == (3, 4, 3, 5)
    assert data["path"] == base
    assert data["first_page_url"] == f"{base}?per_page=2&page=1"
    assert data["last_page_url"] == f"{base}?per_page=2&page=3"
    assert data["prev_page_url"] == f"{base}?per_page=2&page=1"
    assert data["next_page_url"] == f"{base}?per_page=2&page=3"
    assert [link["url"] for link in data["links"][1:-1]] == [
        f"{base}?per_page=2&page={n}" for n in (1, 2, 3)
    ]
    # An unknown key is neither an error nor repeated.
    data = await page_data(client, a, "?foo=bar&sort=-id&page=1")
    assert data["first_page_url"] == f"{base}?page=1"
    assert len(data["data"]) == 5


async def test_per_page_boundaries(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    await many(factory, a, 2)
    assert (await page_data(client, a, "?per_page=100"))["per_page"] == 100
    assert (await page_data(client, a, "?per_page=1"))["last_page"] == 2
    for query, errors in [
        ("?per_page=101", {"per_page": ["The per page may not be greater than 100."]}),
        ("?per_page=0", {"per_page": ["The per page must be at least 1."]}),
        ("?per_page=-5", {"per_page": ["The per page must be at least 1."]}),
        ("?per_page=abc", {"per_page": ["The per page must be an integer."]}),
        ("?page=0", {"page": ["The page must be at least 1."]}),
        ("?page=-1", {"page": ["The page must be at least 1."]}),
        ("?page=abc", {"page": ["The page must be an integer."]}),
        ("?page=1.5", {"page": ["The page must be an integer."]}),
        ("?page=99999999999999999999", {"page": ["The page may not be greater than 1000000000."]}),
    ]:
        status, body = await listing(client, a, query)
        assert status == 422, query
        assert body == {"status": "error", "message": "Validation failed", "errors": errors}, query


async def test_all_invalid_query_values_are_reported_together(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    status, body = await listing(
        client, a, "?page=x&per_page=500&type=vip&status_id=a&is_opted_out=maybe"
    )
    assert status == 422
    assert body["errors"] == {
        "page": ["The page must be an integer."],
        "per_page": ["The per page may not be greater than 100."],
        "type": ["The selected type is invalid."],
        "status_id": ["The status id must be an integer."],
        "is_opted_out": ["The is opted out field must be true or false."],
    }


async def test_page_past_the_end_is_empty(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    await many(factory, a, 3)
    data = await page_data(client, a, "?page=5&per_page=2")
    assert data["data"] == []
    assert data["from"] is None and data["to"] is None
    assert data["total"] == 3
    assert data["last_page"] == 2
    assert data["current_page"] == 5
    assert data["next_page_url"] is None


async def test_many_pages_elide_links(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    await many(factory, a, 16)
    data = await page_data(client, a, "?per_page=1&page=8")
    labels = [link["label"] for link in data["links"]]
    assert labels == [
        "&laquo; Previous",
        "1",
        "2",
        "...",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "...",
        "15",
        "16",
        "Next &raquo;",
    ]
    assert data["last_page"] == 16
    active = [link["label"] for link in data["links"] if link["active"]]
    assert active == ["8"]


async def test_search_matches_names_phone_email_company_case_insensitively(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    ann = await factory.contact(a, firstname="Ann", lastname="Lee", phone="+14155551234")
    bob = await factory.contact(
        a, firstname="Bob", lastname="Ray", email="Bob.R@Example.com", phone="+442079460001"
    )
    cat = await factory.contact(a, firstname="Cat", company="ACME Widgets", phone="+919876543210")
    await factory.contact(a, firstname="Dan", lastname="Zed", phone="+442079460958")
    cases = {
        "ann": [ann["id"]],
        "LEE": [ann["id"]],
        "Ann%20Lee": [ann["id"]],  # full name
        "n%20l": [ann["id"]],  # across the space
        "5551234": [ann["id"]],
        "%2B1415": [ann["id"]],  # "+1415"
        "example.COM": [bob["id"]],
        "widgets": [cat["id"]],
        "acme": [cat["id"]],
        "zzz": [],
    }
    for term, expected in cases.items():
        assert await ids(client, a, f"?search={term}") == expected, term


async def test_search_wildcards_are_literal(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    pct = await factory.contact(a, firstname="100%", company="a_b")
    other = await factory.contact(a, firstname="1000", company="axb")
    slash = await factory.contact(a, firstname="back\\slash")
    assert await ids(client, a, "?search=%25") == [pct["id"]]
    assert await ids(client, a, "?search=0%25") == [pct["id"]]
    assert await ids(client, a, "?search=a_b") == [pct["id"]]
    assert await ids(client, a, "?search=_") == [pct["id"]]
    assert await ids(client, a, "?search=a%5Cb") == []  # a\b is not a_b
    assert await ids(client, a, "?search=%5C") == [slash["id"]]
    assert other["id"] in await ids(client, a, "?search=1000")


async def test_search_with_unicode_and_quotes(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    zoe = await factory.contact(a, firstname="Zoë", lastname="O'Neil")
    assert await ids(client, a, "?search=zo%C3%AB") == [zoe["id"]]
    assert await ids(client, a, "?search=O'N") == [zoe["id"]]
    assert await ids(client, a, "?search=%27%3B--") == []


async def test_filters_by_type_status_source_group(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    s1, s2 = await factory.status(a), await factory.status(a)
    o1, o2 = await factory.source(a), await factory.source(a)
    c1 = await factory.contact(a, status_id=s1.id, source_id=o1.id, groups="vip")
    c2 = await factory.contact(a, status_id=s2.id, source_id=o1.id, type="customer")
    c3 = await factory.contact(a, status_id=s2.id, source_id=o2.id, groups="vip,new")
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]["data"]
    vip = {g["name"]: g["id"] for g in groups}["vip"]
    assert await ids(client, a, "?type=lead") == [c1["id"], c3["id"]]
    assert await ids(client, a, "?type=customer") == [c2["id"]]
    assert await ids(client, a, "?type=guest") == []
    assert await ids(client, a, f"?status_id={s2.id}") == [c2["id"], c3["id"]]
    assert await ids(client, a, f"?source_id={o1.id}") == [c1["id"], c2["id"]]
    assert await ids(client, a, f"?group_id={vip}") == [c1["id"], c3["id"]]
    assert await ids(client, a, f"?group_id={vip}&status_id={s2.id}") == [c3["id"]]
    assert await ids(client, a, f"?type=customer&source_id={o2.id}") == []
    assert await ids(client, a, "?status_id=999999") == []
    # Filters are repeated in the page URLs.
    data = await page_data(client, a, f"?per_page=1&type=lead&group_id={vip}")
    assert data["total"] == 2
    assert data["next_page_url"].endswith(f"?per_page=1&type=lead&group_id={vip}&page=2")


async def test_filter_by_opt_out(client: httpx.AsyncClient, factory: Factory, app: FastAPI) -> None:
    a = await factory.tenant()
    kept = await factory.contact(a)
    out = await factory.contact(a)
    # Opting out happens through inbound WhatsApp traffic; set the flag directly here.
    async with app.state.sessionmaker() as s:
        await s.execute(update(Contact).where(Contact.id == out["id"]).values(is_opted_out=True))
        await s.commit()
    for value in ("1", "true"):
        assert await ids(client, a, f"?is_opted_out={value}") == [out["id"]]
    for value in ("0", "false"):
        assert await ids(client, a, f"?is_opted_out={value}") == [kept["id"]]
    listed = await page_data(client, a, f"?is_opted_out=true&search={out['firstname']}")
    assert listed["data"][0]["is_opted_out"] == 1


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("?type=vip", {"type": ["The selected type is invalid."]}),
        ("?status_id=abc", {"status_id": ["The status id must be an integer."]}),
        ("?source_id=1.5", {"source_id": ["The source id must be an integer."]}),
        ("?group_id=x", {"group_id": ["The group id must be an integer."]}),
        (
            "?is_opted_out=maybe",
            {"is_opted_out": ["The is opted out field must be true or false."]},
        ),
        (
            "?search=" + "x" * 256,
            {"search": ["The search may not be greater than 255 characters."]},
        ),
    ],
)
async def test_invalid_filter_values(
    client: httpx.AsyncClient, factory: Factory, query: str, errors: dict[str, list[str]]
) -> None:
    a = await factory.tenant()
    status, body = await listing(client, a, query)
    assert status == 422
    assert body == {"status": "error", "message": "Validation failed", "errors": errors}


async def test_huge_filter_ids_match_nothing_or_are_refused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    await factory.contact(a)
    for query in ("?status_id=2147483648", "?group_id=99999999999999999999", "?source_id=-1"):
        status, body = await listing(client, a, query)
        assert status in (200, 422), query
        if status == 200:
            assert body["data"]["data"] == []


async def test_list_shows_only_this_workspace(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    mine = await factory.contact(a, firstname="Same")
    await factory.contact(b, firstname="Same")
    data = await page_data(client, a, "?search=same")
    assert [c["id"] for c in data["data"]] == [mine["id"]]
    assert data["total"] == 1
    group = await factory.group(b, "theirs")
    assert await ids(client, a, f"?group_id={group.id}") == []


async def test_workspace_b_gets_404_for_workspace_a_record(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    c = await factory.contact(a)
    r = await client.delete(b.url(f"/contacts/{c['id']}"), headers=b.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Contact not found"}
    assert (await page_data(client, b))["total"] == 0


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.get(b.url("/contacts?page=1"), headers=a.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
