"""Migration 0014 on a database that already holds contacts: the tallies start equal to a
count of the rows, and its triggers keep them so for writes made with plain SQL."""

from __future__ import annotations

from tests.migrations.conftest import sql, workspace
from xobito.kit.migrate import upgrade

COUNTED = """
SELECT workspace_id, '' AS facet, 0 AS value, count(*) AS n FROM contacts GROUP BY workspace_id
UNION ALL SELECT workspace_id, 's', status_id, count(*) FROM contacts
    WHERE status_id IS NOT NULL GROUP BY workspace_id, status_id
UNION ALL SELECT workspace_id, 'o', source_id, count(*) FROM contacts
    WHERE source_id IS NOT NULL GROUP BY workspace_id, source_id
UNION ALL SELECT g.workspace_id, 'g', cg.group_id, count(*) FROM contact_groups cg
    JOIN groups g ON g.id = cg.group_id GROUP BY g.workspace_id, cg.group_id
"""
TALLIED = (
    "SELECT workspace_id, facet, value, sum(n) FROM contact_tallies"
    " GROUP BY workspace_id, facet, value HAVING sum(n) <> 0"
)


def label(url: str, table: str, ws: int, name: str) -> int:
    extra = ", isdefault" if table == "statuses" else ""
    value = ", false" if table == "statuses" else ""
    (row,) = sql(
        url,
        f"INSERT INTO {table} (workspace_id, name{extra}, created_at, updated_at)"
        f" VALUES (:ws, :name{value}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id",
        ws=ws,
        name=name,
    )
    return int(row[0])


def contact(url: str, ws: int, phone: str, status: int | None, source: int | None) -> int:
    (row,) = sql(
        url,
        "INSERT INTO contacts (workspace_id, firstname, type, phone, status_id, source_id,"
        " is_enabled, is_opted_out, created_at, updated_at) VALUES (:ws, 'Ann', 'lead', :phone,"
        " :status, :source, true, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id",
        ws=ws,
        phone=phone,
        status=status,
        source=source,
    )
    return int(row[0])


def matches(url: str) -> dict[tuple[int, str, int], int]:
    counted = {(w, f, v): int(n) for w, f, v, n in sql(url, COUNTED)}
    tallied = {(w, f, v): int(n) for w, f, v, n in sql(url, TALLIED)}
    assert tallied == counted
    return tallied


def test_counts_what_is_there_and_keeps_counting(scratch_url: str) -> None:
    url = scratch_url
    upgrade(url, "0013")
    a, b = workspace(url, "a"), workspace(url, "b")
    status = label(url, "statuses", a, "New")
    source = label(url, "sources", a, "Web")
    group = label(url, "groups", a, "VIP")
    ids = [
        contact(url, a, f"+1415000{i:04d}", status if i % 2 else None, source) for i in range(30)
    ]
    for i in ids[:10]:
        sql(url, "INSERT INTO contact_groups (contact_id, group_id) VALUES (:c, :g)", c=i, g=group)
    contact(url, b, "+14150009999", None, None)

    upgrade(url, "0014")

    tallied = matches(url)
    assert tallied[(a, "", 0)] == 30
    assert tallied[(a, "s", status)] == 15
    assert tallied[(a, "o", source)] == 30
    assert tallied[(a, "g", group)] == 10
    assert tallied[(b, "", 0)] == 1

    contact(url, a, "+14150008888", status, None)
    sql(url, "DELETE FROM contacts WHERE id IN (:x, :y)", x=ids[0], y=ids[1])
    sql(url, "UPDATE contacts SET status_id = :s WHERE id = :id", s=status, id=ids[2])
    sql(url, "DELETE FROM contact_groups WHERE contact_id = :c", c=ids[3])
    sql(url, "DELETE FROM sources WHERE id = :id", id=source)
    tallied = matches(url)
    assert tallied[(a, "", 0)] == 29
    assert (a, "o", source) not in tallied
    sql(url, "DELETE FROM workspaces WHERE id = :id", id=a)
    assert set(matches(url)) == {(b, "", 0)}
    assert sql(url, "SELECT count(*) FROM contact_tallies WHERE workspace_id = :a", a=a) == [(0,)]
