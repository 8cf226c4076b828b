"""Concurrent writes of one unique value answer the spec's 422, never a 500 (issue 9).

The requests run at once against the app (``asyncio.gather``): on PostgreSQL they hold
separate connections, so one request's INSERT waits for the other's commit and then fails on
the unique index. (SQLite has one connection and serialises them; these tests hold there too.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.backends import Backend
from tests.factories import Factory, Tenant
from xobito.kit.time import utcnow
from xobito.models import Group

N = 8
TAKEN = {
    "phone": {"phone": ["The phone has already been taken."]},
    "email": {"email": ["The email has already been taken."]},
}


async def labelled(factory: Factory, tenant: Tenant) -> dict[str, Any]:
    status, source = await factory.status(tenant), await factory.source(tenant)
    return {"firstname": "Ann", "type": "lead", "status_id": status.id, "source_id": source.id}


async def at_once(
    client: httpx.AsyncClient, method: str, urls: list[str], bodies: list[Any], t: Tenant
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(
                client.request(method, url, json=body, headers=t.headers)
                for url, body in zip(urls, bodies, strict=True)
            )
        )
    )


def one_wins(responses: list[httpx.Response], ok: int, errors: dict[str, list[str]]) -> None:
    codes = sorted(r.status_code for r in responses)
    assert codes == [ok] + [422] * (len(responses) - 1), [r.text for r in responses]
    for r in responses:
        if r.status_code == 422:
            assert r.json() == {"status": "error", "message": "Validation failed", "errors": errors}


async def test_concurrent_creates_of_one_phone(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await labelled(factory, a) | {"phone": "+14155550001"}
    url = a.url("/contacts")
    one_wins(await at_once(client, "POST", [url] * N, [body] * N, a), 201, TAKEN["phone"])
    listed = await client.get(url, headers=a.headers)
    assert listed.json()["data"]["total"] == 1


async def test_concurrent_creates_of_one_email(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    base = await labelled(factory, a) | {"email": "ann@example.com"}
    bodies = [base | {"phone": f"+1415555{n:04d}"} for n in range(N)]
    url = a.url("/contacts")
    one_wins(await at_once(client, "POST", [url] * N, bodies, a), 201, TAKEN["email"])


async def test_concurrent_creates_of_one_email_in_different_cases(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    base = await labelled(factory, a)
    cases = ["ann@example.com", "Ann@example.com", "ANN@EXAMPLE.COM", "ann@Example.Com"]
    bodies = [base | {"phone": f"+1415555{n:04d}", "email": cases[n % 4]} for n in range(N)]
    url = a.url("/contacts")
    one_wins(await at_once(client, "POST", [url] * N, bodies, a), 201, TAKEN["email"])


async def test_concurrent_creates_sharing_new_groups_use_one_group_each(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    base = await labelled(factory, a) | {"groups": "vip, new, later"}
    bodies = [base | {"phone": f"+1415555{n:04d}"} for n in range(N)]
    responses = await at_once(client, "POST", [a.url("/contacts")] * N, bodies, a)
    assert [r.status_code for r in responses] == [201] * N, [r.text for r in responses]
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]
    assert sorted(g["name"] for g in groups["data"]) == ["later", "new", "vip"]
    ids = sorted(g["id"] for g in groups["data"])
    assert all(r.json()["data"]["group_id"] == ids for r in responses)


async def test_concurrent_creates_naming_new_groups_in_opposite_orders(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    """However their INSERTs interleave (waiting, or a deadlock retried: see the next
    test), every request succeeds and they share the groups."""
    a = await factory.tenant()
    base = await labelled(factory, a)
    orders = ["g1, g2, g3, g4, g5, g6", "g6, g5, g4, g3, g2, g1"]
    bodies = [base | {"phone": f"+1415555{n:04d}", "groups": orders[n % 2]} for n in range(N)]
    responses = await at_once(client, "POST", [a.url("/contacts")] * N, bodies, a)
    assert [r.status_code for r in responses] == [201] * N, [r.text for r in responses]
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]["data"]
    assert len(groups) == 6
    assert all(r.json()["data"]["group_id"] == sorted(g["id"] for g in groups) for r in responses)


async def test_a_deadlock_creating_groups_is_retried(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, backend: Backend
) -> None:
    """Made to happen: another transaction holds ``g6`` while the request inserts
    ``g1``..``g6`` (and waits on ``g6``), then takes ``g1``. PostgreSQL aborts the request's
    INSERT (its deadlock check fires first: the other connection's is set far later); the
    request rolls back to its savepoint, retries and succeeds."""
    if backend.name != "postgres":
        pytest.skip("SQLite has a single writer: no deadlock is possible")
    a = await factory.tenant()
    body = await labelled(factory, a) | {"phone": "+14155550001", "groups": "g1,g2,g3,g4,g5,g6"}
    now = utcnow()

    async def hold(name: str) -> None:
        row = {"workspace_id": a.workspace.id, "name": name, "created_at": now, "updated_at": now}
        await session.execute(insert(Group).values(**row))

    await session.execute(text("SET deadlock_timeout = '60s'"))
    await hold("g6")
    request = asyncio.ensure_future(client.post(a.url("/contacts"), json=body, headers=a.headers))
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while not (await session.execute(waiting)).scalar_one():  # until the request waits on g6
        assert not request.done(), request.result().text
    await hold("g1")  # waits for the request, until PostgreSQL aborts the request's INSERT
    await session.commit()
    r = await request
    assert r.status_code == 201, r.text
    groups = (await client.get(a.url("/groups"), headers=a.headers)).json()["data"]["data"]
    assert sorted(g["name"] for g in groups) == ["g1", "g2", "g3", "g4", "g5", "g6"]
    assert r.json()["data"]["group_id"] == sorted(g["id"] for g in groups)


async def test_concurrent_updates_to_one_phone_or_email(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    contacts = [await factory.contact(a) for _ in range(N)]
    urls = [a.url(f"/contacts/{c['id']}") for c in contacts]
    base = {"firstname": "Ann", "lastname": "Lee", "type": "lead"}
    same_phone = [base | {"phone": "+14155559999"}] * N
    one_wins(await at_once(client, "PUT", urls, same_phone, a), 200, TAKEN["phone"])
    same_email = [base | {"phone": c["phone"], "email": "x@example.com"} for c in contacts]
    one_wins(await at_once(client, "PUT", urls, same_email, a), 200, TAKEN["email"])


async def test_concurrent_labels_of_one_name(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant(token_fields={"rate_limit_max": 1000})
    taken = {"name": ["The name has already been taken."]}
    for plural in ("statuses", "sources", "groups"):
        url = a.url(f"/{plural}")
        one_wins(await at_once(client, "POST", [url] * N, [{"name": "Hot"}] * N, a), 201, taken)
        made = [
            (await client.post(url, json={"name": f"Name {n}"}, headers=a.headers)).json()["data"]
            for n in range(N)
        ]
        urls = [f"{url}/{m['id']}" for m in made]
        one_wins(await at_once(client, "PUT", urls, [{"name": "Warm"}] * N, a), 200, taken)
