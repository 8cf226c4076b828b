"""``?search=`` through the search indexes (migration 0015) finds exactly what the rule says:
a case-insensitive substring of the first name, last name, full name, phone, email or
company, with ``%``, ``_`` and ``\\`` taken literally; on both databases, after updates and
deletes too, and the index is what serves it."""

from __future__ import annotations

import io
import random
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.backends import Backend
from tests.factories import Factory, Tenant
from xobito.contact import listing
from xobito.contact.exporting import export_csv
from xobito.contact.listing import filters

PEOPLE = [
    {"firstname": "Ann", "lastname": "Lee", "email": "ann.lee@example.com", "company": "Acme"},
    {"firstname": "Annabel", "lastname": None, "email": None, "company": None},
    {"firstname": "Joanna", "lastname": "Silva", "email": "JO@Silva.PT", "company": "Silva & Co"},
    {"firstname": "Bob", "lastname": "O'Neil", "email": "bob_100%@x.io", "company": "50% Off"},
    {"firstname": "Back\\Slash", "lastname": "Person", "email": None, "company": "a_b"},
    {"firstname": "Zoë", "lastname": "Müller", "email": "zoe@mueller.de", "company": "United"},
    {"firstname": "Carla", "lastname": "Lee Ann", "email": "carla@lee.org", "company": "Lee"},
]
TERMS = [
    "ann", "ANN", "Ann Lee", "nn l", "lee", "ee a", "silva", "jo@s", "& co", "o'n", "100%",
    "%", "_", "50%", "\\", "back\\s", "a_b", "ab", "Zoë", "Müller", "üll", "mueller", "+1415",
    "5550", "0002", "example.com", "nobody", "a", "e", " ", "Lee Ann", "LEE ANN", "carla@",
    "ee\x1fa", "lee\x1f+1415",  # the search table's separator: the field-by-field rule
]  # fmt: skip


def phone(i: int) -> str:
    return f"+1415555{i:04d}"


def matches(person: dict[str, Any], i: int, term: str) -> bool:
    """The rule, written out (ASCII case folding: SQLite's and PostgreSQL's agree there).
    The query string is trimmed, as every input is; nothing left means no search."""
    term = term.strip()
    if not term:
        return True
    fields = [person["firstname"], person["lastname"], phone(i), person["email"], person["company"]]
    if person["lastname"] is not None:
        fields.append(f"{person['firstname']} {person['lastname']}")
    return any(f is not None and _fold(term) in _fold(f) for f in fields)


def _fold(s: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in s)


async def seed(factory: Factory, t: Tenant) -> dict[int, int]:
    """The people as contacts; their ids by index."""
    status, source = await factory.status(t), await factory.source(t)
    ids = {}
    for i, person in enumerate(PEOPLE):
        body = {k: v for k, v in person.items() if v is not None}
        record = await factory.contact(
            t, **body, phone=phone(i), status_id=status.id, source_id=source.id
        )
        ids[i] = record["id"]
    return ids


async def found(client: httpx.AsyncClient, t: Tenant, term: str) -> tuple[set[int], int]:
    r = await client.get(
        t.url("/contacts"), params={"search": term, "per_page": 100}, headers=t.headers
    )
    assert r.status_code == 200, r.text
    page = r.json()["data"]
    return {c["id"] for c in page["data"]}, page["total"]


async def test_search_finds_exactly_the_matching_contacts(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a, b = await factory.tenant(rate_limit_max=1000), await factory.tenant()
    ids = await seed(factory, a)
    await seed(factory, b)  # the same people in another workspace are never found
    rng = random.Random(14)
    texts = [v for p in PEOPLE for v in p.values() if v]
    sampled = []
    for _ in range(40):
        source = rng.choice(texts)
        start = rng.randrange(len(source))
        sampled.append(source[start : start + rng.randint(1, 6)])
    for term in TERMS + sampled:
        expected = {ids[i] for i, p in enumerate(PEOPLE) if matches(p, i, term)}
        got, total = await found(client, a, term)
        assert (got, total) == (expected, len(expected)), term


async def test_search_follows_updates_and_deletes(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    ids = await seed(factory, a)
    status, source = await factory.status(a), await factory.source(a)
    body = {
        "firstname": "Renamed",
        "lastname": "Person",
        "phone": "+14155559999",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
    }
    r = await client.put(a.url(f"/contacts/{ids[0]}"), json=body, headers=a.headers)
    assert r.status_code == 200, r.text
    assert (await found(client, a, "renamed"))[0] == {ids[0]}
    assert ids[0] not in (await found(client, a, "ann lee"))[0]
    assert ids[0] in (await found(client, a, "9999"))[0]
    r = await client.delete(a.url(f"/contacts/{ids[2]}"), headers=a.headers)
    assert r.status_code == 200, r.text
    assert (await found(client, a, "silva")) == (set(), 0)


async def test_the_export_searches_the_same_way(
    client: httpx.AsyncClient, factory: Factory, app: Any
) -> None:
    a = await factory.tenant()
    ids = await seed(factory, a)
    where = filters(
        search="lee", type=None, status_id=None, source_id=None, group_id=None, is_opted_out=None
    )
    chunks = [c async for c in export_csv(app.state.sessionmaker, a.workspace.id, where)]
    rows = io.StringIO("".join(chunks)).read().splitlines()[1:]
    assert {int(r.split(",")[0]) for r in rows} == {ids[0], ids[6]}


async def test_the_search_index_serves_searches(
    backend: Backend, factory: Factory, session: AsyncSession
) -> None:
    a = await factory.tenant()
    await seed(factory, a)
    dialect = session.bind.dialect  # type: ignore[union-attr]
    params = listing.narrowed({"search": "%silva%"}, dialect.name)
    statement = listing.count_statement(frozenset(params))
    compiled = statement.compile(dialect=dialect)
    values = {**compiled.params, **params, "workspace_id": a.workspace.id}
    args = tuple(values[name] for name in compiled.positiontup or ())
    explain = "EXPLAIN" if backend.name == "postgres" else "EXPLAIN QUERY PLAN"
    connection = await session.connection()
    if backend.name == "postgres":
        await session.execute(text("SET enable_seqscan = off"))
        await session.execute(text("SET enable_indexscan = off"))
        await session.execute(text("SET enable_indexonlyscan = off"))
    plan = await connection.exec_driver_sql(f"{explain} {compiled}", args)
    lines = "\n".join(str(r[-1]) for r in plan.all())
    if backend.name == "postgres":
        assert "ix_contacts_search_body" in lines, lines
    else:
        assert "contacts_search VIRTUAL TABLE INDEX 0:L" in lines, lines


async def test_a_search_pages_and_combines_with_filters_and_cursors(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(rate_limit_max=1000)
    ids = await seed(factory, a)
    lees = sorted(ids[i] for i, p in enumerate(PEOPLE) if matches(p, i, "lee"))
    other, source = await factory.status(a), await factory.source(a)
    lee = await factory.contact(
        a, firstname="Lee", phone="+14155550100", status_id=other.id, source_id=source.id
    )
    everyone = sorted([*lees, lee["id"]])

    async def page(**params: Any) -> dict[str, Any]:
        r = await client.get(a.url("/contacts"), params=params, headers=a.headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()["data"]
        return body

    first = await page(search="lee", per_page=2)
    second = await page(search="lee", per_page=2, page=2)
    assert ([c["id"] for c in first["data"]], first["total"]) == (everyone[:2], len(everyone))
    assert [c["id"] for c in second["data"]] == everyone[2:4]
    beyond = await page(search="lee", page=50)
    assert (beyond["data"], beyond["total"]) == ([], len(everyone))  # the total, past the end
    only_other = await page(search="LEE", status_id=other.id)
    assert ([c["firstname"] for c in only_other["data"]], only_other["total"]) == (["Lee"], 1)
    seen: list[int] = []
    cursor: str | None = "start"
    while cursor is not None:
        body = await page(search="lee", cursor=cursor, per_page=1)
        seen += [c["id"] for c in body["data"]]
        cursor = body["next_cursor"]
    assert seen == everyone
