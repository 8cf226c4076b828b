"""Deep pages of the contact list (PostgreSQL: from the position blocks of migration 0019,
SQLite: the index walk) hold exactly the rows an OFFSET over the workspace's ids gives, at
every depth and across block edges, with another workspace's ids interleaved and rows
deleted in between."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.backends import Backend
from tests.factories import Factory, Tenant
from xobito.contact import listing
from xobito.contact.repository import ContactRepository


def person(phone: str) -> dict[str, str]:
    return {"firstname": "Ann", "phone": phone}


async def page_ids(client: httpx.AsyncClient, t: Tenant, page: int, per_page: int) -> list[int]:
    r = await client.get(
        t.url("/contacts"), params={"page": page, "per_page": per_page}, headers=t.headers
    )
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["data"]["data"]]


async def stored_ids(session: AsyncSession, t: Tenant) -> list[int]:
    await session.rollback()
    rows = await session.execute(
        text("SELECT id FROM contacts WHERE workspace_id = :w ORDER BY id"), {"w": t.workspace.id}
    )
    return [int(i) for i in rows.scalars()]


async def test_every_page_at_every_depth_holds_the_rows_an_offset_gives(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    # Ids of A and B interleave in runs, so A's blocks are partly filled, some not at all.
    for run in range(6):
        await factory.contacts(a, [person(f"+1212{200 + run}{i:04d}") for i in range(500)])
        await factory.contacts(b, [person(f"+1212{300 + run}{i:04d}") for i in range(700)])
    ids = await stored_ids(session, a)
    gone = ",".join(str(i) for i in ids[1000:1400:3])
    await session.execute(text(f"DELETE FROM contacts WHERE id IN ({gone})"))
    await session.execute(
        text("DELETE FROM contacts WHERE workspace_id = :w AND id % 7 = 0"),
        {"w": a.workspace.id},
    )
    await session.commit()
    ids = await stored_ids(session, a)
    assert 2400 < len(ids) < 2500

    per_page = 100
    pages = [await page_ids(client, a, p, per_page) for p in range(1, len(ids) // per_page + 3)]
    assert [i for page in pages for i in page] == ids
    assert pages[-1] == []
    for per_page in (15, 7):
        # Pages whose offsets straddle DEEP_OFFSET and several block edges.
        for page in (
            listing.DEEP_OFFSET // per_page,
            listing.DEEP_OFFSET // per_page + 1,
            listing.DEEP_OFFSET // per_page + 2,
            *range(150, len(ids) // per_page + 2, 23),
        ):
            start = (page - 1) * per_page
            assert await page_ids(client, a, page, per_page) == ids[start : start + per_page]
    # The dashboard's list (records built in Python, any sort) reads the same deep path.
    repo = ContactRepository(session, a.workspace.id)
    for page in (1, 70, 101, 160):
        rows, _, total = await repo.page_with_groups(page, 15, {}, "id")
        assert [r.id for r in rows] == ids[(page - 1) * 15 : page * 15]
        assert total == len(ids)
    await session.rollback()
    r = await client.get(a.url("/contacts"), params={"page": 200}, headers=a.headers)
    assert r.json()["data"]["total"] == len(ids)
    assert await page_ids(client, b, 200, 15) == (await stored_ids(session, b))[2985:3000]


async def test_a_deep_page_starts_where_the_position_blocks_say(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession, backend: Backend
) -> None:
    """The deep path really reads the blocks: a block count the triggers did not write
    moves the page (PostgreSQL; SQLite walks the index and has no blocks)."""
    a = await factory.tenant()
    await factory.contacts(
        a, [person(f"+1212{400 + i // 1000}{i % 1000:04d}") for i in range(1500)]
    )
    ids = await stored_ids(session, a)
    offset = 1200
    assert await page_ids(client, a, offset // 15 + 1, 15) == ids[offset : offset + 15]
    if backend.name != "postgres":
        rows = await session.execute(text("SELECT count(*) FROM contact_tallies WHERE facet='p'"))
        assert rows.scalar_one() == 0
        return
    blocks = await session.execute(
        text(
            "SELECT value, sum(n) FROM contact_tallies WHERE workspace_id = :w AND facet = 'p'"
            " GROUP BY value ORDER BY value"
        ),
        {"w": a.workspace.id},
    )
    counted: dict[int, int] = {}
    for i in ids:
        counted[i // listing.POSITION_BLOCK] = counted.get(i // listing.POSITION_BLOCK, 0) + 1
    assert {int(v): int(n) for v, n in blocks.all()} == counted
    await session.execute(
        text(
            "INSERT INTO contact_tallies (workspace_id, facet, value, n) VALUES (:w, 'p', :v, 40)"
        ),
        {"w": a.workspace.id, "v": ids[0] // listing.POSITION_BLOCK},
    )
    await session.commit()
    shifted = offset - 40
    assert await page_ids(client, a, offset // 15 + 1, 15) == ids[shifted : shifted + 15]
    # Shallow pages walk the index and do not read the blocks.
    assert await page_ids(client, a, 2, 15) == ids[15:30]
