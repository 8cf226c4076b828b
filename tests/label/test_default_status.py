"""At most one default status per workspace, also under concurrent writes (docs/api/labels.md,
issue 9): setting one clears the others, and the last to commit is the default."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory, Tenant
from xobito.kit.time import utcnow
from xobito.models import Status

N = 8


async def defaults(client: httpx.AsyncClient, t: Tenant) -> list[str]:
    r = await client.get(t.url("/statuses?per_page=100"), headers=t.headers)
    return [s["name"] for s in r.json()["data"]["data"] if s["isdefault"] == 1]


async def test_concurrent_default_creates_leave_one_default(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    await factory.status(a, "Earlier", isdefault=True)
    bodies = [{"name": f"Stage {n}", "isdefault": True} for n in range(N)]
    responses = await asyncio.gather(
        *(client.post(a.url("/statuses"), json=b, headers=a.headers) for b in bodies)
    )
    assert [r.status_code for r in responses] == [201] * N, [r.text for r in responses]
    (default,) = await defaults(client, a)
    assert default.startswith("Stage ")


async def test_concurrent_default_updates_leave_one_default(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    made = [await factory.status(a, f"Stage {n}") for n in range(N)]
    responses = await asyncio.gather(
        *(
            client.put(
                a.url(f"/statuses/{s.id}"), json={"name": s.name, "isdefault": 1}, headers=a.headers
            )
            for s in made
        )
    )
    assert [r.status_code for r in responses] == [200] * N, [r.text for r in responses]
    assert len(await defaults(client, a)) == 1


async def test_setting_a_default_clears_the_other_and_unsetting_leaves_none(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    await factory.status(b, "Theirs", isdefault=True)
    first = await factory.status(a, "First", isdefault=True)
    second = await factory.status(a, "Second")
    r = await client.put(
        a.url(f"/statuses/{second.id}"),
        json={"name": "Second", "isdefault": True},
        headers=a.headers,
    )
    assert r.status_code == 200 and r.json()["data"]["isdefault"] == 1
    assert await defaults(client, a) == ["Second"]
    assert await defaults(client, b) == ["Theirs"]  # another workspace's default is its own
    r = await client.put(a.url(f"/statuses/{first.id}"), json={"name": "First"}, headers=a.headers)
    assert r.status_code == 200 and r.json()["data"]["isdefault"] == 0
    assert await defaults(client, a) == ["Second"]  # an update without isdefault keeps it
    r = await client.put(
        a.url(f"/statuses/{second.id}"), json={"name": "Second", "isdefault": 0}, headers=a.headers
    )
    assert await defaults(client, a) == []


async def test_the_database_refuses_a_second_default(
    factory: Factory, session: AsyncSession
) -> None:
    """The partial unique index: whatever writes statuses, one default per workspace."""
    a = await factory.tenant()
    await factory.status(a, "First", isdefault=True)
    now = utcnow()
    session.add(Status(workspace_id=a.workspace.id, name="Second", isdefault=True, created_at=now))
    try:
        await session.flush()
        raise AssertionError("a second default was stored")
    except IntegrityError:
        await session.rollback()
    session.add(Status(workspace_id=a.workspace.id, name="Third", isdefault=False))
    await session.flush()  # non-defaults are not limited
    stored = await session.scalars(select(Status.name).where(Status.workspace_id == a.workspace.id))
    assert sorted(stored) == ["First", "Third"]
