"""``groups`` is bounded (issue 9): at most 50 names a request, each at most 255 characters,
wherever it is accepted (POST/PUT /contacts, a send's ``contact``); and writing them costs the
same few statements whatever their number."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.factories import Factory, Tenant
from xobito.contact.service import ContactService
from xobito.kit.errors import ValidationFailed

TOO_MANY = "The groups may not have more than 50 items."


async def labelled(factory: Factory, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    status, source = await factory.status(tenant), await factory.source(tenant)
    return {
        "firstname": "Ann",
        "lastname": "Lee",
        "phone": "+14155550001",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
        **fields,
    }


def names(n: int, prefix: str = "g") -> str:
    return ",".join(f"{prefix}{i}" for i in range(n))


def errors_of(r: httpx.Response) -> dict[str, list[str]]:
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"] == "Validation failed"
    errors: dict[str, list[str]] = body["errors"]
    return errors


async def group_count(client: httpx.AsyncClient, t: Tenant) -> int:
    r = await client.get(t.url("/groups"), headers=t.headers)
    return int(r.json()["data"]["total"])


async def test_fifty_groups_pass_fifty_one_are_refused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    body = await labelled(factory, a)
    # Empty parts and repeats are not items: 50 names, written 102 times over.
    fifty = f"{names(50)}, ,{names(50)},,"
    r = await client.post(a.url("/contacts"), json=body | {"groups": fifty}, headers=a.headers)
    assert r.status_code == 201, r.text
    assert len(r.json()["data"]["group_id"]) == 50
    url = a.url(f"/contacts/{r.json()['data']['id']}")
    r = await client.put(url, json=body | {"groups": names(51, "h")}, headers=a.headers)
    assert errors_of(r) == {"groups": [TOO_MANY]}
    r = await client.post(
        a.url("/contacts"),
        json=body | {"phone": "+14155550002", "groups": names(20_000)},
        headers=a.headers,
    )
    assert errors_of(r) == {"groups": [TOO_MANY]}
    assert await group_count(client, a) == 50  # nothing of the refused requests was stored


async def test_long_names_are_named_by_their_position(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    body = await labelled(factory, a, firstname="A" * 256)
    groups = f"ok, {'x' * 256} ,, fine,{'y' * 300}, {'z' * 255}"
    r = await client.post(a.url("/contacts"), json=body | {"groups": groups}, headers=a.headers)
    assert errors_of(r) == {
        "firstname": ["The firstname may not be greater than 255 characters."],
        "groups.1": ["The groups.1 may not be greater than 255 characters."],
        "groups.3": ["The groups.3 may not be greater than 255 characters."],
    }
    assert await group_count(client, a) == 0


async def test_a_sends_contact_groups_are_bounded_too(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(enforce_care_window=False)
    send = {"phone_number": "+14155550001", "message_body": "Hello"}
    r = await client.post(
        a.url("/messages/send"), json=send | {"contact": {"groups": names(51)}}, headers=a.headers
    )
    assert errors_of(r) == {
        "contact.groups": ["The contact.groups may not have more than 50 items."]
    }
    r = await client.post(
        a.url("/messages/send"),
        json=send | {"contact": {"groups": f"a,{'b' * 256}"}},
        headers=a.headers,
    )
    assert errors_of(r) == {
        "contact.groups.1": ["The contact.groups.1 may not be greater than 255 characters."]
    }
    many = ",".join(f"{'n' * 200}{i}" for i in range(50))  # 10,000 characters: allowed
    r = await client.post(
        a.url("/messages/send"), json=send | {"contact": {"groups": many}}, headers=a.headers
    )
    assert r.status_code == 200, r.text
    assert await group_count(client, a) == 50


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_statements_do_not_grow_with_the_number_of_groups(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    body = await labelled(factory, a)
    counts = []
    cases = (("+14155550001", "warm-up"), ("+14155550002", "one"), ("+14155550003", names(50)))
    for n, (phone, groups) in enumerate(cases):
        with statements(app) as seen:
            r = await client.post(
                a.url("/contacts"),
                json=body | {"phone": phone, "groups": groups},
                headers=a.headers,
            )
        assert r.status_code == 201, (n, r.text)
        counts.append((len(seen), max(len(s) for s in seen)))
    _, (few, longest_few), (many, longest_many) = counts
    assert many == few  # as many round trips for 50 new groups as for one
    assert longest_many == longest_few  # and no statement longer


async def test_the_dashboards_add_to_group_refuses_a_long_name(factory: Factory) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    async with factory.sessionmaker() as s:
        with pytest.raises(ValidationFailed) as caught:
            await ContactService(s, a.info).add_to_group([c["id"]], "x" * 256)
    long = ["The groups.0 may not be greater than 255 characters."]
    assert caught.value.errors == {"groups": long}
