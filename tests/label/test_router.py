"""Statuses, sources and groups over HTTP: the five endpoints, shapes, abilities, isolation.

Behaviour shared by the three kinds is parametrized over them; validation rules live in
``test_router_validation.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant
from xobito.auth.abilities import ABILITIES

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@dataclass(frozen=True)
class Kind:
    plural: str
    thing: str

    @property
    def singular(self) -> str:
        return {"statuses": "status", "sources": "source", "groups": "group"}[self.plural]

    async def make(self, factory: Factory, tenant: Tenant, name: str | None = None) -> Any:
        return await getattr(factory, self.singular)(tenant, name)


KINDS = [Kind("statuses", "Status"), Kind("sources", "Source"), Kind("groups", "Group")]
kinds = pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.plural)


def fields(kind: Kind) -> set[str]:
    base = {"id", "tenant_id", "name", "created_at", "updated_at"}
    return base | {"color", "isdefault"} if kind.plural == "statuses" else base


@kinds
async def test_create_returns_201_and_the_record(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url(f"/{kind.plural}"), json={"name": "Hot lead"}, headers=t.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "success"
    assert body["message"] == f"{kind.thing} created successfully"
    data = body["data"]
    assert set(data) == fields(kind)
    assert data["name"] == "Hot lead"
    assert data["tenant_id"] == t.workspace.id
    assert isinstance(data["id"], int)
    assert TS.match(data["created_at"]) and TS.match(data["updated_at"])
    shown = await client.get(t.url(f"/{kind.plural}/{data['id']}"), headers=t.headers)
    assert shown.json() == {"status": "success", "data": data}


async def test_status_record_has_color_and_integer_isdefault(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    r = await client.post(
        t.url("/statuses"),
        json={"name": "Won", "color": "#1A2b3C", "isdefault": True},
        headers=t.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["color"] == "#1A2b3C"
    assert r.json()["data"]["isdefault"] == 1
    r = await client.post(t.url("/statuses"), json={"name": "Lost"}, headers=t.headers)
    assert r.json()["data"]["color"] is None
    assert r.json()["data"]["isdefault"] == 0
    r = await client.post(
        t.url("/statuses"), json={"name": "Open", "isdefault": "0"}, headers=t.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["isdefault"] == 0


@kinds
async def test_show_returns_the_record(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    obj = await kind.make(factory, t, "Referral")
    r = await client.get(t.url(f"/{kind.plural}/{obj.id}"), headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "success"
    assert "message" not in r.json()
    assert r.json()["data"]["id"] == obj.id
    assert r.json()["data"]["name"] == "Referral"
    assert set(r.json()["data"]) == fields(kind)


@kinds
async def test_update_changes_the_record(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    obj = await kind.make(factory, t, "Old name")
    r = await client.put(
        t.url(f"/{kind.plural}/{obj.id}"), json={"name": "New name"}, headers=t.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "success"
    assert r.json()["message"] == f"{kind.thing} updated successfully"
    assert r.json()["data"]["id"] == obj.id
    assert r.json()["data"]["name"] == "New name"
    shown = await client.get(t.url(f"/{kind.plural}/{obj.id}"), headers=t.headers)
    assert shown.json()["data"]["name"] == "New name"


@kinds
async def test_delete_removes_the_record(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    obj = await kind.make(factory, t)
    keep = await kind.make(factory, t)
    r = await client.delete(t.url(f"/{kind.plural}/{obj.id}"), headers=t.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "success", "message": f"{kind.thing} deleted successfully"}
    gone = await client.get(t.url(f"/{kind.plural}/{obj.id}"), headers=t.headers)
    assert gone.status_code == 404
    again = await client.delete(t.url(f"/{kind.plural}/{obj.id}"), headers=t.headers)
    assert again.status_code == 404
    kept = await client.get(t.url(f"/{kind.plural}/{keep.id}"), headers=t.headers)
    assert kept.status_code == 200


@kinds
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("record_id", ["999", "abc", "0", "99999999999"])
async def test_unknown_or_malformed_id_is_404_with_the_things_message(
    client: httpx.AsyncClient, factory: Factory, kind: Kind, method: str, record_id: str
) -> None:
    t = await factory.tenant()
    await kind.make(factory, t)
    body = {"name": "Whatever"} if method == "PUT" else None
    r = await client.request(
        method, t.url(f"/{kind.plural}/{record_id}"), json=body, headers=t.headers
    )
    assert r.status_code == 404, r.text
    assert r.json() == {"status": "error", "message": f"{kind.thing} not found"}


@kinds
async def test_list_is_a_paginator_ordered_by_id(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    ids = [(await kind.make(factory, t, f"Name {n:02d}")).id for n in range(17)]
    r = await client.get(t.url(f"/{kind.plural}"), headers=t.headers)
    assert r.status_code == 200, r.text
    assert "message" not in r.json()
    page = r.json()["data"]
    assert page["total"] == 17
    assert page["per_page"] == 15
    assert page["current_page"] == 1
    assert page["last_page"] == 2
    assert [d["id"] for d in page["data"]] == ids[:15]
    assert set(page["data"][0]) == fields(kind)
    r = await client.get(t.url(f"/{kind.plural}?per_page=5&page=3"), headers=t.headers)
    page = r.json()["data"]
    assert [d["id"] for d in page["data"]] == ids[10:15]
    assert (page["from"], page["to"], page["last_page"]) == (11, 15, 4)
    assert page["next_page_url"].endswith(
        f"/api/v1/{t.workspace.subdomain}/{kind.plural}?per_page=5&page=4"
    )
    r = await client.get(t.url(f"/{kind.plural}?page=9"), headers=t.headers)
    page = r.json()["data"]
    assert page["data"] == [] and page["from"] is None and page["to"] is None


@kinds
async def test_list_rejects_per_page_over_100(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant()
    r = await client.get(t.url(f"/{kind.plural}?per_page=101"), headers=t.headers)
    assert r.status_code == 422, r.text
    assert r.json()["message"] == "Validation failed"
    assert "per_page" in r.json()["errors"]


@kinds
async def test_list_shows_only_this_workspaces_records(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    mine = await kind.make(factory, a, "Shared name")
    await kind.make(factory, b, "Shared name")
    r = await client.get(a.url(f"/{kind.plural}"), headers=a.headers)
    assert [d["id"] for d in r.json()["data"]["data"]] == [mine.id]
    assert r.json()["data"]["total"] == 1


# -- abilities --------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "", "read"),
    ("GET", "/{id}", "read"),
    ("POST", "", "create"),
    ("PUT", "/{id}", "update"),
    ("DELETE", "/{id}", "delete"),
]


@kinds
@pytest.mark.parametrize(("method", "path", "verb"), ENDPOINTS)
async def test_each_endpoint_requires_its_ability(
    client: httpx.AsyncClient, factory: Factory, kind: Kind, method: str, path: str, verb: str
) -> None:
    ability = f"{kind.plural}.{verb}"
    others = [a for a in ABILITIES if a != ability]
    t = await factory.tenant(abilities=others)
    obj = await kind.make(factory, t, "Existing")
    url = t.url(f"/{kind.plural}{path.format(id=obj.id)}")
    body = {"name": "Another name"} if method in ("POST", "PUT") else None
    r = await client.request(method, url, json=body, headers=t.headers)
    assert r.status_code == 403, r.text
    assert r.json() == {
        "status": "error",
        "message": f"Token does not have the required ability: {ability}",
    }
    # Nothing was changed by the refused request.
    full, _ = await factory.token(t.workspace)
    shown = await client.get(
        t.url(f"/{kind.plural}/{obj.id}"), headers={"Authorization": f"Bearer {full}"}
    )
    assert shown.status_code == 200 and shown.json()["data"]["name"] == "Existing"

    # The same request with exactly that ability passes the ability check.
    allowed, _ = await factory.token(t.workspace, [ability])
    r = await client.request(method, url, json=body, headers={"Authorization": f"Bearer {allowed}"})
    assert r.status_code in (200, 201), r.text


@kinds
async def test_ability_is_checked_before_validation_and_existence(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    t = await factory.tenant(abilities=[f"{kind.plural}.read"])
    r = await client.post(t.url(f"/{kind.plural}"), json={}, headers=t.headers)
    assert r.status_code == 403
    r = await client.put(t.url(f"/{kind.plural}/999"), json={}, headers=t.headers)
    assert r.status_code == 403


# -- isolation between workspaces --------------------------------------------------------------


@kinds
async def test_workspace_b_gets_404_for_workspace_as_record(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    obj = await kind.make(factory, a, "Private")
    url = b.url(f"/{kind.plural}/{obj.id}")
    not_found = {"status": "error", "message": f"{kind.thing} not found"}
    r = await client.get(url, headers=b.headers)
    assert (r.status_code, r.json()) == (404, not_found)
    r = await client.put(url, json={"name": "Hijacked"}, headers=b.headers)
    assert (r.status_code, r.json()) == (404, not_found)
    r = await client.delete(url, headers=b.headers)
    assert (r.status_code, r.json()) == (404, not_found)
    r = await client.get(a.url(f"/{kind.plural}/{obj.id}"), headers=a.headers)
    assert r.status_code == 200 and r.json()["data"]["name"] == "Private"


@kinds
async def test_token_of_a_on_bs_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory, kind: Kind
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    obj = await kind.make(factory, b)
    for method, url in [
        ("GET", b.url(f"/{kind.plural}")),
        ("GET", b.url(f"/{kind.plural}/{obj.id}")),
        ("POST", b.url(f"/{kind.plural}")),
        ("DELETE", b.url(f"/{kind.plural}/{obj.id}")),
    ]:
        body = {"name": "Sneaky"} if method == "POST" else None
        r = await client.request(method, url, json=body, headers=a.headers)
        assert r.status_code == 401, (method, url, r.text)
        assert r.json() == {"status": "error", "message": "Invalid API token"}
    r = await client.get(b.url(f"/{kind.plural}"), headers=b.headers)
    assert r.json()["data"]["total"] == 1
