"""The audience query: every matching contact once, in id order, in keyset batches."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.factories import Factory
from xobito.contact.audience import Audience, audience_select
from xobito.contact.repository import ContactRepository
from xobito.models import Contact


async def test_audience_matches_every_kind_and_nothing_else(app: FastAPI, factory: Factory) -> None:
    t = await factory.tenant()
    statuses = [await factory.status(t) for _ in range(2)]
    sources = [await factory.source(t) for _ in range(2)]
    rng = random.Random(7)
    made: list[dict[str, Any]] = []
    for _ in range(40):
        groups = rng.sample(["a", "b", "c"], rng.randint(0, 2))
        made.append(await factory.contact(
            t, status_id=rng.choice(statuses).id, source_id=rng.choice(sources).id,
            type=rng.choice(["lead", "customer"]), groups=", ".join(groups)))  # fmt: skip
    opted_out = {c["id"] for c in made[::5]}
    async with app.state.sessionmaker() as s:
        await s.execute(update(Contact).where(Contact.id.in_(opted_out)).values(is_opted_out=True))
        await s.commit()
    stranger = await factory.tenant()
    await factory.contact(stranger, groups="a")
    group_ids = sorted({g for c in made for g in c["group_id"]})

    audiences = [
        Audience(group_ids=(group_ids[0],)),
        Audience(group_ids=tuple(group_ids[:2]), status_ids=(statuses[0].id,)),
        Audience(status_ids=(statuses[1].id,), source_ids=(sources[0].id,), types=("lead",)),
        Audience(types=("customer",), contact_ids=(made[0]["id"], made[1]["id"])),
        Audience(contact_ids=(made[3]["id"],)),
        Audience(all=True),
        Audience(),
    ]
    for audience, include, size in itertools.product(audiences, (False, True), (1, 3, 1000)):
        expected = [c["id"] for c in made if _matches(audience, c)
                    and (include or c["id"] not in opted_out)]  # fmt: skip
        batches = []
        async with app.state.sessionmaker() as s:
            repo = ContactRepository(s, t.workspace.id)
            async for rows in repo.audience(audience, batch_size=size, include_opted_out=include):
                batches.append(rows)
        got = [r.id for rows in batches for r in rows]
        assert got == expected, (audience, include)
        assert all(len(rows) <= size for rows in batches)
        for rows in batches:
            for r in rows:
                assert r.is_opted_out == (r.id in opted_out)


def _matches(a: Audience, c: dict[str, Any]) -> bool:
    if a.all:
        return True
    kinds = [
        (a.group_ids, bool(set(a.group_ids) & set(c["group_id"]))),
        (a.status_ids, c["status_id"] in a.status_ids),
        (a.source_ids, c["source_id"] in a.source_ids),
        (a.types, c["type"] in a.types),
    ]
    given = [hit for values, hit in kinds if values]
    return bool(given and all(given)) or c["id"] in a.contact_ids


async def test_audience_resumes_after_an_id(app: FastAPI, factory: Factory) -> None:
    t = await factory.tenant()
    status = await factory.status(t)
    ids = [(await factory.contact(t, status_id=status.id))["id"] for _ in range(5)]
    async with app.state.sessionmaker() as s:
        repo = ContactRepository(s, t.workspace.id)
        rest = [r.id async for rows in repo.audience(Audience(status_ids=(status.id,)),
                                                     after_id=ids[1]) for r in rows]  # fmt: skip
    assert rest == ids[2:]


@pytest.mark.parametrize("given", [{"group_ids": [3, 1, 3]}, {"all": 1}, {}])
def test_audience_of_a_stored_mapping(given: dict[str, Any]) -> None:
    audience = Audience.of(given)
    assert audience.group_ids == tuple(sorted(set(given.get("group_ids", []))))
    assert audience.all is bool(given.get("all"))
    sql = str(audience_select(1, audience))
    assert "ORDER BY contacts.id" in sql and "LIMIT" in sql
