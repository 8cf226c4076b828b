"""Tallies stay exact under concurrent writers (PostgreSQL: real concurrent transactions).

Writers on their own connections create contacts (the service, with groups; bulk inserts),
delete them singly and in bulk, touch two workspaces in one transaction in either order, and
commit or roll back at random, while a checker compares, inside single statements (one
snapshot each), every tally with a count of the rows. No writer may fail (a deadlock or a
wait would show as an error or a timeout), no snapshot may disagree, and at the end every
tally equals the count.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.backends import Backend
from tests.contact.test_tallies import tallies_match
from tests.factories import Factory, Tenant
from xobito.contact.repository import ContactRepository
from xobito.contact.service import ContactService

WRITERS = 8
ROUNDS = 30
SNAPSHOT = """
SELECT
  (SELECT coalesce(sum(n), 0) FROM contact_tallies WHERE workspace_id = :w AND facet = '')
  - (SELECT count(*) FROM contacts WHERE workspace_id = :w),
  (SELECT coalesce(sum(n), 0) FROM contact_tallies WHERE workspace_id = :w AND facet = 'g'
     AND value = :g)
  - (SELECT count(*) FROM contact_groups WHERE group_id = :g),
  (SELECT coalesce(sum(n), 0) FROM contact_tallies WHERE workspace_id = :w AND facet = 's'
     AND value = :s)
  - (SELECT count(*) FROM contacts WHERE workspace_id = :w AND status_id = :s),
  (SELECT count(*) FROM (SELECT value FROM contact_tallies WHERE workspace_id = :w
     AND facet = 'p' GROUP BY value HAVING sum(n) <> 0) p FULL JOIN (SELECT id / 1024 AS value,
     count(*) AS n FROM contacts WHERE workspace_id = :w GROUP BY id / 1024) c USING (value)
   WHERE (SELECT sum(n) FROM contact_tallies t WHERE t.workspace_id = :w AND t.facet = 'p'
     AND t.value = coalesce(p.value, c.value)) IS DISTINCT FROM c.n)
"""


@pytest.fixture(autouse=True)
def _postgres_only(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite has one writer)")


async def test_tallies_are_exact_in_every_snapshot_under_concurrent_creates_and_deletes(
    app: FastAPI, factory: Factory, session: AsyncSession
) -> None:
    tenants = [await factory.tenant(), await factory.tenant()]
    labels = []
    for t in tenants:
        status, source = await factory.status(t), await factory.source(t)
        group = await factory.group(t, "stress")
        labels.append((t, status.id, source.id, group.id))
    phones = iter(range(10**6))
    done = asyncio.Event()
    disagreements: list[tuple[int, tuple[int, ...]]] = []
    checks = 0

    async def create(s: AsyncSession, t: Tenant, status: int, source: int) -> None:
        body = {
            "firstname": "Stress",
            "phone": f"+1415{next(phones):07d}",
            "type": "lead",
            "status_id": status,
            "source_id": source,
            "groups": "stress",
        }
        await ContactService(s, t.info).create(body)

    async def bulk(s: AsyncSession, t: Tenant, status: int, group: int, n: int) -> None:
        repo = ContactRepository(s, t.workspace.id)
        rows = [
            {
                "firstname": "Bulk",
                "phone": f"+1415{next(phones):07d}",
                "type": "guest",
                "status_id": status,
            }
            for _ in range(n)
        ]
        ids = await repo.insert_many(rows)
        await repo.add_memberships([(i, group) for i in ids[::2]])

    async def delete_some(s: AsyncSession, t: Tenant, rng: random.Random) -> None:
        found = await s.execute(
            text("SELECT id FROM contacts WHERE workspace_id = :w ORDER BY random() LIMIT 5"),
            {"w": t.workspace.id},
        )
        ids = [i for (i,) in found.all()]
        if not ids:
            return
        if rng.random() < 0.5:
            await s.execute(text("DELETE FROM contacts WHERE id = :id"), {"id": ids[0]})
        else:
            await s.execute(text("DELETE FROM contacts WHERE id = ANY(:ids)"), {"ids": ids})

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(ROUNDS):
            async with app.state.sessionmaker() as s:
                order = labels if rng.random() < 0.5 else labels[::-1]
                for t, status, source, group in order[: rng.randint(1, 2)]:
                    action = rng.random()
                    if action < 0.4:
                        await create(s, t, status, source)
                    elif action < 0.6:
                        await bulk(s, t, status, group, rng.randint(2, 20))
                    else:
                        await delete_some(s, t, rng)
                if rng.random() < 0.2:
                    await s.rollback()
                else:
                    await s.commit()

    async def checker() -> None:
        nonlocal checks
        async with app.state.sessionmaker() as s:
            while not done.is_set():
                for t, status, _, group in labels:
                    row = (
                        await s.execute(
                            text(SNAPSHOT), {"w": t.workspace.id, "g": group, "s": status}
                        )
                    ).one()
                    if any(row):
                        disagreements.append((t.workspace.id, tuple(row)))
                    checks += 1
                await s.rollback()
                await asyncio.sleep(0)

    check = asyncio.create_task(checker())
    try:
        await asyncio.wait_for(asyncio.gather(*(writer(i) for i in range(WRITERS))), 120)
    finally:
        done.set()
        await check
    assert checks > 0
    assert disagreements == []
    tallied = await tallies_match(session)
    assert sum(n for (w, f, _), n in tallied.items() if f == "") > 0
    # Folding kept each key to a handful of rows, however many statements wrote it.
    rows = await session.execute(
        text(
            "SELECT max(c) FROM (SELECT count(*) AS c FROM contact_tallies"
            " GROUP BY workspace_id, facet, value) k"
        )
    )
    assert rows.scalar_one() <= WRITERS + 1
