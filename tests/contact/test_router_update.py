"""``PUT /contacts/{id}`` rules and the plan limit on create (docs/api/contacts.md)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Factory, Tenant

PLAN_LIMIT = "Contact limit exceeded for your current plan. Upgrade to add more contacts."


async def valid_body(factory: Factory, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    status = await factory.status(tenant)
    source = await factory.source(tenant)
    return {
        "firstname": "Ann",
        "phone": "+14155551234",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
        **fields,
    }


async def create(client: httpx.AsyncClient, tenant: Tenant, body: Any) -> httpx.Response:
    return await client.post(tenant.url("/contacts"), json=body, headers=tenant.headers)


def errors_of(r: httpx.Response) -> dict[str, list[str]]:
    assert r.status_code == 422, r.text
    out = r.json()
    assert out["status"] == "error" and out["message"] == "Validation failed"
    errors: dict[str, list[str]] = out["errors"]
    return errors


async def test_put_requires_firstname_lastname_phone_type(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    r = await client.put(a.url(f"/contacts/{c['id']}"), json={}, headers=a.headers)
    assert errors_of(r) == {
        "firstname": ["The firstname field is required."],
        "lastname": ["The lastname field is required."],
        "phone": ["The phone field is required."],
        "type": ["The type field is required."],
    }
    unchanged = await client.get(a.url(f"/contacts/{c['id']}"), headers=a.headers)
    assert unchanged.json()["data"] == c


async def test_put_uniqueness_ignores_only_the_contact_itself(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    c1 = await factory.contact(a, phone="+14155550001", email="one@example.com")
    c2 = await factory.contact(a, phone="+14155550002")
    body = {
        "firstname": "A",
        "lastname": "B",
        "phone": "+1 415 555 0001",
        "email": "one@example.com",
        "type": "lead",
    }
    r = await client.put(a.url(f"/contacts/{c2['id']}"), json=body, headers=a.headers)
    assert errors_of(r) == {
        "phone": ["The phone has already been taken."],
        "email": ["The email has already been taken."],
    }
    r = await client.put(a.url(f"/contacts/{c1['id']}"), json=body, headers=a.headers)
    assert r.status_code == 200


async def test_put_validates_references_and_type(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    c = await factory.contact(a)
    other = await factory.status(b)
    body = {
        "firstname": "A",
        "lastname": "B",
        "phone": c["phone"],
        "type": "guest",
        "status_id": other.id,
        "source_id": 777,
    }
    r = await client.put(a.url(f"/contacts/{c['id']}"), json=body, headers=a.headers)
    assert errors_of(r) == {
        "type": ["The selected type is invalid."],
        "source_id": ["The selected source id is invalid."],
        "status_id": ["The selected status id is invalid."],
    }


async def test_plan_limit(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant(max_contacts=2)
    body = await valid_body(factory, a)
    for n in (1, 2):
        r = await create(client, a, body | {"phone": f"+1415555000{n}"})
        assert r.status_code == 201
    r = await create(client, a, body | {"phone": "+14155550003"})
    assert r.status_code == 403
    assert r.json() == {"status": "error", "message": PLAN_LIMIT}
    # An invalid body is still a 422 first.
    r = await create(client, a, body | {"phone": "bad"})
    assert errors_of(r) == {"phone": ["The phone format is invalid."]}
    listed = await client.get(a.url("/contacts"), headers=a.headers)
    assert listed.json()["data"]["total"] == 2
    # Updates are not creations; deleting one frees a slot.
    first = listed.json()["data"]["data"][0]
    update = {"firstname": "Z", "lastname": "Y", "phone": first["phone"], "type": "lead"}
    r = await client.put(a.url(f"/contacts/{first['id']}"), json=update, headers=a.headers)
    assert r.status_code == 200
    await client.delete(a.url(f"/contacts/{first['id']}"), headers=a.headers)
    assert (await create(client, a, body | {"phone": "+14155550003"})).status_code == 201


async def test_plan_limit_counts_only_this_workspace(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(max_contacts=1)
    b = await factory.tenant()
    await factory.contact(b)
    await factory.contact(b)
    assert (await create(client, a, await valid_body(factory, a))).status_code == 201


async def test_put_nullable_fields_and_blank_strings(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    c = await factory.contact(a, company="Acme", email="a@example.com", country_id=840)
    body = {
        "firstname": "A",
        "lastname": "B",
        "phone": c["phone"],
        "type": "lead",
        "company": "",
        "email": None,
        "country_id": None,
    }
    r = await client.put(a.url(f"/contacts/{c['id']}"), json=body, headers=a.headers)
    assert r.status_code == 200, r.text
    record = r.json()["data"]
    assert (record["company"], record["email"], record["country_id"]) == (None, None, None)
    # The cleared email is free for another contact now.
    other = await create(
        client, a, await valid_body(factory, a, phone="+14155550002", email="a@example.com")
    )
    assert other.status_code == 201


async def test_workspace_b_gets_404_for_workspace_a_record(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    c = await factory.contact(a)
    body = {"firstname": "X", "lastname": "Y", "phone": "+14155559999", "type": "lead"}
    r = await client.put(b.url(f"/contacts/{c['id']}"), json=body, headers=b.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Contact not found"}
    unchanged = await client.get(a.url(f"/contacts/{c['id']}"), headers=a.headers)
    assert unchanged.json()["data"] == c


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    c = await factory.contact(b)
    body = {"firstname": "X", "lastname": "Y", "phone": "+14155559999", "type": "lead"}
    r = await client.put(b.url(f"/contacts/{c['id']}"), json=body, headers=a.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
