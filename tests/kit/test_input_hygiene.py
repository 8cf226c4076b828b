"""NUL characters never reach the database; empty query values mean "not given"."""

from __future__ import annotations

import httpx

from tests.factories import Factory


async def test_nul_in_a_body_field_is_a_422_with_the_other_errors(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    body = {"firstname": "A\x00B", "phone": "+14155550100", "type": "lead", "source_id": 999,
            "status_id": 999}
    r = await client.post(a.url("/contacts"), headers=a.headers, json=body)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors["firstname"] == ["The firstname must not contain null characters."]
    assert errors["source_id"] == ["The selected source id is invalid."]


async def test_nul_in_a_nested_field_names_the_nested_key(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    r = await client.put(a.url("/statuses/1"), headers=a.headers, json={"name": "ok\x00name"})
    assert r.status_code == 422
    assert r.json()["errors"] == {"name": ["The name must not contain null characters."]}


async def test_nul_in_the_path_is_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    for path in (a.url("/messages/wamid.%00x/status"), "/api/v1/a%00b/contacts"):
        r = await client.get(path, headers=a.headers)
        assert r.status_code == 404
        assert r.json() == {"status": "error", "message": "Not found"}


async def test_nul_in_a_query_value_is_removed(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    await factory.contact(a, firstname="Ann")
    r = await client.get(a.url("/contacts"), headers=a.headers, params={"search": "A\x00nn"})
    assert r.status_code == 200
    assert [c["firstname"] for c in r.json()["data"]["data"]] == ["Ann"]


async def test_empty_query_values_mean_not_given(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    r = await client.get(a.url("/contacts?per_page=&page=%20&type="), headers=a.headers)
    assert r.status_code == 200
    assert r.json()["data"]["per_page"] == 15
    assert r.json()["data"]["current_page"] == 1
