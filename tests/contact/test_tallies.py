"""Contact tallies (migration 0014): the list's exact ``total`` without counting rows.

Whatever adds or removes contacts, memberships, statuses or sources, the tallies equal a
fresh count of the rows, and the list's ``total`` is the tally's.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory, Tenant
from tests.message.conftest import Messaging, messaging  # noqa: F401 (fixture)
from xobito.contact.csv_rows import CsvSource
from xobito.contact.import_runner import run_import
from xobito.contact.service import ContactService

COUNTED = """
SELECT workspace_id, '' AS facet, 0 AS value, count(*) AS n FROM contacts GROUP BY workspace_id
UNION ALL SELECT workspace_id, 's', status_id, count(*) FROM contacts
    WHERE status_id IS NOT NULL GROUP BY workspace_id, status_id
UNION ALL SELECT workspace_id, 'o', source_id, count(*) FROM contacts
    WHERE source_id IS NOT NULL GROUP BY workspace_id, source_id
UNION ALL SELECT g.workspace_id, 'g', cg.group_id, count(*) FROM contact_groups cg
    JOIN groups g ON g.id = cg.group_id GROUP BY g.workspace_id, cg.group_id
"""
# PostgreSQL also counts contacts per block of ids (migration 0019: deep pages).
POSITIONS = """
UNION ALL SELECT workspace_id, 'p', CAST(id / 1024 AS integer), count(*) FROM contacts
    GROUP BY workspace_id, CAST(id / 1024 AS integer)
"""
TALLIED = (
    "SELECT workspace_id, facet, value, sum(n) FROM contact_tallies"
    " GROUP BY workspace_id, facet, value HAVING sum(n) <> 0"
)


async def tallies_match(session: AsyncSession) -> dict[tuple[int, str, int], int]:
    """The tallies, after checking they equal a count of the rows (nothing else tallied)."""
    await session.rollback()
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    statement = COUNTED + (POSITIONS if postgres else "")
    counted = {(w, f, v): int(n) for w, f, v, n in (await session.execute(text(statement))).all()}
    tallied = {(w, f, v): int(n) for w, f, v, n in (await session.execute(text(TALLIED))).all()}
    assert tallied == counted
    return tallied


async def total(client: httpx.AsyncClient, t: Tenant, **query: Any) -> int:
    r = await client.get(t.url("/contacts"), params=query, headers=t.headers)
    assert r.status_code == 200, r.text
    return int(r.json()["data"]["total"])


async def test_every_path_that_adds_or_removes_contacts_keeps_the_tallies_exact(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    messaging: Messaging,  # noqa: F811
) -> None:
    a, b = await factory.tenant(enforce_care_window=False), await factory.tenant()
    s1, s2 = await factory.status(a), await factory.status(a)
    src = await factory.source(a)
    base = {"type": "lead", "status_id": s1.id, "source_id": src.id}
    created = []
    for i in range(3):  # POST /contacts, with groups
        body = {**base, "firstname": f"P{i}", "phone": f"+1415000000{i}", "groups": "vip,news"}
        r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
        assert r.status_code == 201, r.text
        created.append(r.json()["data"])
    await factory.contact(b)
    tallied = await tallies_match(session)
    assert tallied[(a.workspace.id, "", 0)] == 3
    assert tallied[(a.workspace.id, "s", s1.id)] == 3
    vip = created[0]["group_id"][0]
    assert tallied[(a.workspace.id, "g", vip)] == 3

    # PUT: another status, other groups
    r = await client.put(
        a.url(f"/contacts/{created[0]['id']}"),
        json={
            **base,
            "firstname": "P0",
            "lastname": "Q",
            "phone": "+14150000000",
            "status_id": s2.id,
            "groups": "news",
        },
        headers=a.headers,
    )
    assert r.status_code == 200, r.text
    tallied = await tallies_match(session)
    assert (tallied[(a.workspace.id, "s", s1.id)], tallied[(a.workspace.id, "s", s2.id)]) == (2, 1)

    # A send to a new number and an inbound message from one create contacts.
    r = await client.post(
        a.url("/messages/send"),
        json={"phone_number": "+14155550999", "message_body": "Hi"},
        headers=a.headers,
    )
    assert r.status_code in (200, 201), r.text
    assert r.json()["data"]["contact_created"] is True
    await messaging.sandbox_inbound(a, "+14155550998")
    tallied = await tallies_match(session)
    assert tallied[(a.workspace.id, "", 0)] == 5

    # An import.
    csv = (
        "firstname,lastname,phone,type,status_id,source_id,groups\n"
        f"Imp,One,+14155550101,lead,{s1.id},{src.id},vip\n"
        f"Imp,Two,+14155550102,lead,{s1.id},{src.id},\n"
    ).encode()
    progress = await run_import(client_sessionmaker(factory), a.info, CsvSource(io.BytesIO(csv)))
    assert progress.imported == 2
    tallied = await tallies_match(session)
    assert tallied[(a.workspace.id, "", 0)] == 7
    assert await total(client, a) == 7

    # DELETE one, then the dashboard's bulk delete.
    r = await client.delete(a.url(f"/contacts/{created[1]['id']}"), headers=a.headers)
    assert r.status_code == 200, r.text
    async with factory.sessionmaker() as s:
        assert await ContactService(s, a.info).delete_many([created[2]["id"], 10**6]) == 1
        await s.commit()
    tallied = await tallies_match(session)
    assert tallied[(a.workspace.id, "", 0)] == 5

    # Deleting a status (contacts keep no status) and a group (memberships go).
    r = await client.delete(a.url(f"/statuses/{s2.id}"), headers=a.headers)
    assert r.status_code == 200, r.text
    r = await client.delete(a.url(f"/groups/{vip}"), headers=a.headers)
    assert r.status_code == 200, r.text
    tallied = await tallies_match(session)
    assert (a.workspace.id, "s", s2.id) not in tallied
    assert (a.workspace.id, "g", vip) not in tallied
    assert await total(client, a) == 5

    # Deleting the workspace takes its tallies; the other's stay.
    await session.execute(text("DELETE FROM workspaces WHERE id = :id"), {"id": a.workspace.id})
    await session.commit()
    tallied = await tallies_match(session)
    assert {key[0] for key in tallied} == {b.workspace.id}
    left = await session.execute(
        text("SELECT count(*) FROM contact_tallies WHERE workspace_id = :id"),
        {"id": a.workspace.id},
    )
    assert left.scalar_one() == 0


def client_sessionmaker(factory: Factory) -> Any:
    return factory.sessionmaker


async def test_the_list_total_is_read_from_the_tally_unless_filtered_otherwise(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    a = await factory.tenant()
    status = await factory.status(a)
    group = await factory.group(a)
    for _ in range(2):
        await factory.contact(a, status_id=status.id, groups=group.name)
    assert await total(client, a) == 2
    # A tally row the triggers did not write shows in the totals it serves, and only there.
    for facet, value in (("", 0), ("s", status.id), ("g", group.id)):
        await session.execute(
            text(
                "INSERT INTO contact_tallies (workspace_id, facet, value, n)"
                " VALUES (:w, :f, :v, 40)"
            ),
            {"w": a.workspace.id, "f": facet, "v": value},
        )
    await session.commit()
    assert await total(client, a) == 42
    assert await total(client, a, status_id=status.id) == 42
    assert await total(client, a, group_id=group.id) == 42
    assert await total(client, a, status_id=status.id, type="lead") == 2  # counted
    assert await total(client, a, search="Person") == 2  # counted


async def test_totals_of_another_workspaces_status_or_group_are_zero(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    status, group = await factory.status(a), await factory.group(a)
    await factory.contact(a, status_id=status.id, groups=group.name)
    assert await total(client, b, status_id=status.id) == 0
    assert await total(client, b, group_id=group.id) == 0
    assert await total(client, a, group_id=group.id) == 1


async def test_the_plan_limit_counts_with_the_tally(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(max_contacts=2)
    await factory.contact(a)
    await factory.contact(a)
    status, source = await factory.status(a), await factory.source(a)
    body = {
        "firstname": "Three",
        "phone": "+14155550333",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
    }
    r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
    assert r.status_code == 403, r.text
    r = await client.get(a.url("/contacts"), headers=a.headers)
    await client.delete(a.url(f"/contacts/{r.json()['data']['data'][0]['id']}"), headers=a.headers)
    r = await client.post(a.url("/contacts"), json=body, headers=a.headers)
    assert r.status_code == 201, r.text
