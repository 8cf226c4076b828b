"""``/contacts`` success paths: shapes, create, show, replace, delete (docs/api/contacts.md)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.factories import Factory, Tenant

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
RECORD_KEYS = [
    "id",
    "tenant_id",
    "firstname",
    "lastname",
    "company",
    "type",
    "description",
    "country_id",
    "zip",
    "city",
    "state",
    "address",
    "website",
    "email",
    "phone",
    "source_id",
    "status_id",
    "assigned_id",
    "group_id",
    "is_enabled",
    "is_opted_out",
    "opted_out_at",
    "created_at",
    "updated_at",
]


async def labelled(factory: Factory, tenant: Tenant) -> dict[str, Any]:
    """A valid create body with a fresh status and source of ``tenant``."""
    status = await factory.status(tenant)
    source = await factory.source(tenant)
    return {
        "firstname": "Ann",
        "lastname": "Lee",
        "phone": "+14155551234",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
    }


def assert_record_shape(record: dict[str, Any]) -> None:
    assert list(record) == RECORD_KEYS
    assert isinstance(record["id"], int)
    assert isinstance(record["tenant_id"], int)
    assert isinstance(record["group_id"], list)
    assert all(type(g) is int for g in record["group_id"])
    assert record["is_enabled"] in (0, 1) and type(record["is_enabled"]) is int
    assert record["is_opted_out"] in (0, 1) and type(record["is_opted_out"]) is int
    assert TIMESTAMP.match(record["created_at"])
    assert TIMESTAMP.match(record["updated_at"])


async def test_create_returns_201_and_the_full_record(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    body = await labelled(factory, a)
    body |= {
        "email": "ann@example.com",
        "company": "Acme",
        "description": "Met at the fair",
        "country_id": 840,
        "assigned_id": 7,
        "zip": "94105",
        "city": "San Francisco",
        "state": "CA",
        "address": "1 Market St",
        "website": "https://acme.example",
    }
    r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
    assert r.status_code == 201
    out = r.json()
    assert list(out) == ["status", "message", "data"]
    assert out["status"] == "success"
    assert out["message"] == "Contact created successfully"
    record = out["data"]
    assert_record_shape(record)
    assert record["tenant_id"] == a.workspace.id
    for key, value in body.items():
        assert record[key] == value, key
    assert record["group_id"] == []
    assert record["is_enabled"] == 1
    assert record["is_opted_out"] == 0
    assert record["opted_out_at"] is None


async def test_optional_fields_default_to_null(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await labelled(factory, a)
    del body["lastname"]
    r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
    assert r.status_code == 201
    record = r.json()["data"]
    for key in ("lastname", "company", "description", "country_id", "email", "assigned_id"):
        assert record[key] is None, key


async def test_show_returns_the_stored_record_without_message(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    created = await factory.contact(a, email="x@example.com")
    r = await client.get(a.url(f"/contacts/{created['id']}"), headers=a.headers)
    assert r.status_code == 200
    assert r.json() == {"status": "success", "data": created}
    assert_record_shape(r.json()["data"])


async def test_create_is_persisted(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    r = await client.post(a.url("/contacts"), json=await labelled(factory, a), headers=a.headers)
    created = r.json()["data"]
    again = await client.get(a.url(f"/contacts/{created['id']}"), headers=a.headers)
    assert again.json()["data"] == created


async def test_type_customer_and_boolean_flags(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await labelled(factory, a) | {"type": "customer"}
    r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
    assert r.status_code == 201
    assert r.json()["data"]["type"] == "customer"


async def test_groups_are_trimmed_deduplicated_created_and_reused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    existing = await factory.group(a, "vip")
    body = await labelled(factory, a) | {"groups": " new ,, vip ,  ,new,"}
    r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
    assert r.status_code == 201
    group_ids = r.json()["data"]["group_id"]
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]["data"]
    by_name = {g["name"]: g["id"] for g in groups}
    assert set(by_name) == {"vip", "new"}  # no empty or padded group was created
    assert by_name["vip"] == existing.id
    assert sorted(group_ids) == sorted([existing.id, by_name["new"]])
    # A second contact with the same names creates nothing new.
    body2 = await labelled(factory, a) | {"phone": "+14155550002", "groups": "new"}
    r2 = await client.post(a.url("/contacts"), json=body2, headers=a.headers)
    assert r2.json()["data"]["group_id"] == [by_name["new"]]
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]["data"]
    assert len(groups) == 2


async def test_groups_of_another_workspace_are_not_reused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    theirs = await factory.group(b, "vip")
    body = await labelled(factory, a) | {"groups": "vip"}
    r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
    assert r.status_code == 201
    ours = r.json()["data"]["group_id"]
    assert len(ours) == 1 and ours[0] != theirs.id


async def test_empty_groups_string_means_no_groups(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    for n, groups in enumerate((" , ,", "", "   ")):
        body = await labelled(factory, a) | {"phone": f"+1415555000{n}", "groups": groups}
        r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
        assert r.status_code == 201, r.json()
        assert r.json()["data"]["group_id"] == []
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]
    assert groups["total"] == 0


async def test_put_replaces_the_given_fields(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    created = await factory.contact(a, company="Old Co", email="old@example.com", groups="g1")
    new_status = await factory.status(a)
    body = {
        "firstname": "Bea",
        "lastname": "Ng",
        "phone": "+44 20 7946 0958",
        "type": "customer",
        "status_id": new_status.id,
        "company": "New Co",
    }
    r = await client.put(a.url(f"/contacts/{created['id']}"), json=body, headers=a.headers)
    assert r.status_code == 200
    out = r.json()
    assert list(out) == ["status", "message", "data"]
    assert out["message"] == "Contact updated successfully"
    record = out["data"]
    assert_record_shape(record)
    assert record["id"] == created["id"]
    assert record["firstname"] == "Bea"
    assert record["lastname"] == "Ng"
    assert record["phone"] == "+442079460958"
    assert record["type"] == "customer"
    assert record["status_id"] == new_status.id
    assert record["company"] == "New Co"
    # Fields not given keep their value; groups absent keeps membership.
    assert record["email"] == "old@example.com"
    assert record["source_id"] == created["source_id"]
    assert record["group_id"] == created["group_id"] and len(record["group_id"]) == 1
    assert record["created_at"] == created["created_at"]
    assert record["updated_at"] > created["updated_at"]  # ISO strings sort as times
    shown = await client.get(a.url(f"/contacts/{created['id']}"), headers=a.headers)
    assert shown.json()["data"] == record


async def test_put_null_clears_status_and_source(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    body = {"firstname": "A", "lastname": "B", "phone": c["phone"], "type": "lead"}
    r = await client.put(
        a.url(f"/contacts/{c['id']}"),
        json=body | {"status_id": None, "source_id": None},
        headers=a.headers,
    )
    assert r.status_code == 200, r.json()
    assert r.json()["data"]["status_id"] is None
    assert r.json()["data"]["source_id"] is None


async def test_put_keeps_own_phone_and_email(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    c = await factory.contact(a, phone="+14155551234", email="me@example.com")
    body = {
        "firstname": "A",
        "lastname": "B",
        "phone": "+1 (415) 555-1234",
        "email": "me@example.com",
        "type": "lead",
    }
    r = await client.put(a.url(f"/contacts/{c['id']}"), json=body, headers=a.headers)
    assert r.status_code == 200, r.json()
    assert r.json()["data"]["phone"] == "+14155551234"


async def test_put_groups_replace_membership(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    c = await factory.contact(a, groups="one,two")
    base = {"firstname": "A", "lastname": "B", "phone": c["phone"], "type": "lead"}
    url = a.url(f"/contacts/{c['id']}")
    r = await client.put(url, json=base | {"groups": "two, three"}, headers=a.headers)
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]["data"]
    by_name = {g["name"]: g["id"] for g in groups}
    assert sorted(r.json()["data"]["group_id"]) == sorted([by_name["two"], by_name["three"]])
    r = await client.put(url, json=base | {"groups": ""}, headers=a.headers)
    assert r.json()["data"]["group_id"] == []
    r = await client.put(url, json=base | {"groups": "one"}, headers=a.headers)
    assert r.json()["data"]["group_id"] == [by_name["one"]]
    r = await client.put(url, json=base, headers=a.headers)
    assert r.json()["data"]["group_id"] == [by_name["one"]]


async def test_delete_removes_the_contact(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    c = await factory.contact(a, groups="g")
    other = await factory.contact(a)
    r = await client.delete(a.url(f"/contacts/{c['id']}"), headers=a.headers)
    assert r.status_code == 200
    assert r.json() == {"status": "success", "message": "Contact deleted successfully"}
    gone = await client.get(a.url(f"/contacts/{c['id']}"), headers=a.headers)
    assert gone.status_code == 404
    assert gone.json() == {"status": "error", "message": "Contact not found"}
    again = await client.delete(a.url(f"/contacts/{c['id']}"), headers=a.headers)
    assert again.status_code == 404
    kept = await client.get(a.url(f"/contacts/{other['id']}"), headers=a.headers)
    assert kept.status_code == 200
    # The phone is free again.
    body = await labelled(factory, a) | {"phone": c["phone"]}
    assert (await client.post(a.url("/contacts"), json=body, headers=a.headers)).status_code == 201


async def test_deleting_a_status_or_source_nulls_the_references(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    r = await client.delete(a.url(f"/statuses/{c['status_id']}"), headers=a.headers)
    assert r.status_code == 200
    record = (await client.get(a.url(f"/contacts/{c['id']}"), headers=a.headers)).json()["data"]
    assert record["status_id"] is None
    assert record["source_id"] == c["source_id"]
    r = await client.delete(a.url(f"/sources/{c['source_id']}"), headers=a.headers)
    assert r.status_code == 200
    record = (await client.get(a.url(f"/contacts/{c['id']}"), headers=a.headers)).json()["data"]
    assert record["source_id"] is None


async def test_deleting_a_group_removes_it_from_every_contact(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    c1 = await factory.contact(a, groups="keep,drop")
    c2 = await factory.contact(a, groups="drop")
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]["data"]
    by_name = {g["name"]: g["id"] for g in groups}
    r = await client.delete(a.url(f"/groups/{by_name['drop']}"), headers=a.headers)
    assert r.status_code == 200
    listed = (await client.get(a.url("/contacts"), headers=a.headers)).json()["data"]["data"]
    assert {c["id"]: c["group_id"] for c in listed} == {
        c1["id"]: [by_name["keep"]],
        c2["id"]: [],
    }


async def test_workspace_b_gets_404_for_workspace_a_record(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    c = await factory.contact(a)
    r = await client.get(b.url(f"/contacts/{c['id']}"), headers=b.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Contact not found"}


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.get(b.url("/contacts"), headers=a.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
