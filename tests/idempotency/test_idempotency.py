"""``Idempotency-Key`` on POSTs under /api/v1 (docs/api/rate-limits.md [beyond])."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory, Tenant
from xobito.kit.time import utcnow
from xobito.models import IdempotencyKey, Source, Status

REUSED = {
    "status": "error",
    "message": "Validation failed",
    "errors": {
        "idempotency_key": ["The idempotency key was already used with a different request."]
    },
}
IN_PROGRESS = {"status": "error", "message": "A request with this idempotency key is in progress"}


def keyed(t: Tenant, key: str) -> dict[str, str]:
    return {**t.headers, "Idempotency-Key": key}


async def count(session: AsyncSession, model: type) -> int:
    await session.rollback()  # a fresh snapshot: see what the requests committed
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_same_key_and_body_replays_without_doing_the_work_again(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    first = await client.post(t.url("/statuses"), json={"name": "Once"}, headers=keyed(t, "k-1"))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    second = await client.post(t.url("/statuses"), json={"name": "Once"}, headers=keyed(t, "k-1"))
    assert second.status_code == 201, second.text
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second.headers["content-type"].startswith("application/json")
    # A replay is an authenticated response too.
    assert "x-ratelimit-remaining" in second.headers
    assert await count(session, Status) == 1


async def test_without_a_key_the_work_is_done_twice(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    r1 = await client.post(t.url("/sources"), json={"name": "A"}, headers=t.headers)
    r2 = await client.post(t.url("/sources"), json={"name": "B"}, headers=t.headers)
    assert (r1.status_code, r2.status_code) == (201, 201)
    assert await count(session, Source) == 2


async def test_same_key_with_a_different_body_is_422(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url("/statuses"), json={"name": "First"}, headers=keyed(t, "k"))
    assert r.status_code == 201
    r = await client.post(t.url("/statuses"), json={"name": "Second"}, headers=keyed(t, "k"))
    assert r.status_code == 422, r.text
    assert r.json() == REUSED
    assert "idempotent-replayed" not in r.headers
    # The same body to another endpoint is a different request as well.
    r = await client.post(t.url("/sources"), json={"name": "First"}, headers=keyed(t, "k"))
    assert (r.status_code, r.json()) == (422, REUSED)
    assert await count(session, Status) == 1
    assert await count(session, Source) == 0


async def test_key_is_scoped_per_token(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    second, _ = await factory.token(t.workspace)
    other_ws = await factory.tenant()
    r = await client.post(t.url("/groups"), json={"name": "Mine"}, headers=keyed(t, "shared"))
    assert r.status_code == 201
    headers = {"Authorization": f"Bearer {second}", "Idempotency-Key": "shared"}
    r = await client.post(t.url("/groups"), json={"name": "Yours"}, headers=headers)
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    assert r.json()["data"]["name"] == "Yours"
    r = await client.post(
        other_ws.url("/groups"), json={"name": "Mine"}, headers=keyed(other_ws, "shared")
    )
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    assert await count(session, IdempotencyKey) == 3


@pytest.mark.parametrize("key", ["k" * 256, "k" * 1000])
async def test_key_longer_than_255_is_422(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, key: str
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url("/statuses"), json={"name": "Long"}, headers=keyed(t, key))
    assert r.status_code == 422, r.text
    assert r.json()["message"] == "Validation failed"
    assert list(r.json()["errors"]) == ["idempotency_key"]
    assert await count(session, Status) == 0


async def test_key_of_255_is_accepted(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    key = "k" * 255
    for _ in range(2):
        r = await client.post(t.url("/statuses"), json={"name": "Long"}, headers=keyed(t, key))
        assert r.status_code == 201, r.text
    assert r.headers["Idempotent-Replayed"] == "true"
    assert await count(session, Status) == 1


async def test_failed_validation_does_not_burn_the_key(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url("/statuses"), json={"name": "no"}, headers=keyed(t, "retry"))
    assert r.status_code == 422, r.text
    assert "idempotency_key" not in r.json()["errors"]
    assert await count(session, IdempotencyKey) == 0
    r = await client.post(t.url("/statuses"), json={"name": "Fixed"}, headers=keyed(t, "retry"))
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    r = await client.post(t.url("/statuses"), json={"name": "Fixed"}, headers=keyed(t, "retry"))
    assert r.headers["Idempotent-Replayed"] == "true"
    assert await count(session, Status) == 1


async def test_only_posts_are_idempotent(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    s = await factory.status(t, "Before")
    for name in ["One", "Two"]:
        r = await client.put(t.url(f"/statuses/{s.id}"), json={"name": name}, headers=keyed(t, "p"))
        assert r.status_code == 200, r.text
        assert "idempotent-replayed" not in r.headers
        assert r.json()["data"]["name"] == name
    assert await count(session, IdempotencyKey) == 0


# -- in progress, abandoned, expired ----------------------------------------------------------


async def test_a_reserved_key_answers_409(
    client: httpx.AsyncClient, factory: Factory, app: FastAPI, session: AsyncSession
) -> None:
    t = await factory.tenant()
    held = await app.state.idempotency.begin(t.token_id, "busy", "0" * 64)
    r = await client.post(t.url("/statuses"), json={"name": "Busy"}, headers=keyed(t, "busy"))
    assert r.status_code == 409, r.text
    assert r.json() == IN_PROGRESS
    assert await count(session, Status) == 0
    # Once the in-flight request gives the key back, a retry goes through.
    assert await app.state.idempotency.release(held) is None
    app.state.idempotency.finish(held)
    r = await client.post(t.url("/statuses"), json={"name": "Busy"}, headers=keyed(t, "busy"))
    assert r.status_code == 201, r.text
    assert await count(session, Status) == 1


async def test_concurrent_requests_with_one_key_do_the_work_once(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    n = 8

    async def one() -> httpx.Response:
        return await client.post(t.url("/sources"), json={"name": "Race"}, headers=keyed(t, "race"))

    responses = await asyncio.gather(*(one() for _ in range(n)))
    fresh = [
        r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers
    ]
    assert len(fresh) == 1, [(r.status_code, r.text) for r in responses]
    for r in responses:
        if r is fresh[0]:
            continue
        if r.status_code == 409:
            assert r.json() == IN_PROGRESS
        else:
            assert r.status_code == 201, r.text
            assert r.headers["Idempotent-Replayed"] == "true"
            assert r.content == fresh[0].content
    assert await count(session, Source) == 1


async def test_a_reservation_from_before_owners_is_taken_over_after_a_lease(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    """A row reserved by a version without owners: its age stands in for the lease."""
    t = await factory.tenant()
    lease = timedelta(seconds=30)  # the test settings' default lease
    row = IdempotencyKey(
        token_id=t.token_id,
        key="legacy",
        request_hash="0" * 64,
        created_at=utcnow() - lease + timedelta(seconds=5),
    )
    session.add(row)
    await session.commit()
    r = await client.post(t.url("/statuses"), json={"name": "Alive"}, headers=keyed(t, "legacy"))
    assert r.status_code == 409, "not yet past the lease"
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == row.id)
        .values(created_at=utcnow() - lease - timedelta(seconds=1))
    )
    await session.commit()
    r = await client.post(t.url("/statuses"), json={"name": "Alive"}, headers=keyed(t, "legacy"))
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    r = await client.post(t.url("/statuses"), json={"name": "Alive"}, headers=keyed(t, "legacy"))
    assert r.headers["Idempotent-Replayed"] == "true"
    assert await count(session, Status) == 1
    assert await count(session, IdempotencyKey) == 1


@pytest.mark.parametrize("same_body", [True, False])
async def test_entries_older_than_24h_are_not_replayed(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, same_body: bool
) -> None:
    t = await factory.tenant()
    r = await client.post(t.url("/groups"), json={"name": "Day one"}, headers=keyed(t, "daily"))
    assert r.status_code == 201
    await session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )
    await session.commit()
    name = "Day one" if same_body else "Day two"
    if same_body:  # the name is unique, so free it for the repeated work
        await client.delete(t.url(f"/groups/{r.json()['data']['id']}"), headers=t.headers)
    r = await client.post(t.url("/groups"), json={"name": name}, headers=keyed(t, "daily"))
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    listed = await client.get(t.url("/groups"), headers=t.headers)
    expected = [name] if same_body else ["Day one", "Day two"]
    assert [g["name"] for g in listed.json()["data"]["data"]] == expected
    r = await client.post(t.url("/groups"), json={"name": name}, headers=keyed(t, "daily"))
    assert r.headers["Idempotent-Replayed"] == "true"


async def test_entries_just_under_24h_are_still_replayed(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    first = await client.post(t.url("/groups"), json={"name": "Kept"}, headers=keyed(t, "d"))
    await session.execute(
        update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=23, minutes=59))
    )
    await session.commit()
    r = await client.post(t.url("/groups"), json={"name": "Kept"}, headers=keyed(t, "d"))
    assert r.headers["Idempotent-Replayed"] == "true"
    assert r.content == first.content
