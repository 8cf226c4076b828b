"""Migration 0019 on a database that already holds contacts: PostgreSQL's position blocks
start equal to a count of each block's rows and the tally triggers keep them so; on SQLite
the revision changes nothing. The downgrade takes the blocks away."""

from __future__ import annotations

from alembic import command

from tests.migrations.conftest import sql, workspace
from tests.migrations.test_0014_contact_tallies import contact
from xobito.kit.migrate import alembic_config, upgrade

COUNTED = (
    "SELECT workspace_id, CAST(id / 1024 AS integer), count(*) FROM contacts"
    " GROUP BY workspace_id, CAST(id / 1024 AS integer)"
)
BLOCKS = (
    "SELECT workspace_id, value, sum(n) FROM contact_tallies WHERE facet = 'p'"
    " GROUP BY workspace_id, value HAVING sum(n) <> 0"
)


def blocks(url: str) -> dict[tuple[int, int], int]:
    return {(int(w), int(v)): int(n) for w, v, n in sql(url, BLOCKS)}


def counted(url: str) -> dict[tuple[int, int], int]:
    return {(int(w), int(v)): int(n) for w, v, n in sql(url, COUNTED)}


def test_the_blocks_count_what_was_there_and_keep_counting(scratch_url: str) -> None:
    url = scratch_url
    upgrade(url, "0018")
    a, b = workspace(url, "a"), workspace(url, "b")
    postgres = not url.startswith("sqlite")
    for i in range(12):
        if postgres and i % 4 == 0:  # ids in three blocks
            sql(url, "SELECT setval('contacts_id_seq', :n)", n=1024 * (i // 4 + 1) - 2)
        contact(url, a if i % 3 else b, f"+1415000{i:04d}", None, None)

    upgrade(url, "0019")

    if not postgres:
        assert blocks(url) == {}
        return
    assert blocks(url) == counted(url)
    assert len({v for _, v in counted(url)}) == 4
    sql(url, "DELETE FROM contacts WHERE id % 2 = 0")
    contact(url, a, "+14150009999", None, None)
    assert blocks(url) == counted(url)
    assert sum(n for (w, _), n in blocks(url).items() if w == a) == len(
        sql(url, "SELECT id FROM contacts WHERE workspace_id = :w", w=a)
    )

    command.downgrade(alembic_config(url), "0018")
    assert blocks(url) == {}
    contact(url, a, "+14150009998", None, None)
    assert blocks(url) == {}  # the 0014 functions are back
