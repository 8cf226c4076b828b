"""Migration 0018 on a database that already holds contacts: PostgreSQL's search table is
filled from the contacts stored before it and kept by its triggers afterwards (inserts,
updates of each searched field, deletes); on SQLite the revision changes nothing and the
FTS5 table goes on serving."""

from __future__ import annotations

from tests.migrations.conftest import scalar, sql, workspace
from tests.migrations.test_0014_contact_tallies import contact
from xobito.contact import listing
from xobito.kit.migrate import upgrade


def searched(url: str, ws: int, term: str) -> int:
    """How many contacts of ``ws`` a search finds, as the list counts them."""
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    given = listing.narrowed({"search": f"%{term}%"}, dialect)
    if dialect == "postgresql":
        assert set(given) == {"search_body"}  # the search table alone decides
    statement = listing.count_statement(frozenset(given))
    return scalar(url, statement, {**given, "workspace_id": ws})


def test_the_search_table_holds_what_was_there_and_follows_changes(scratch_url: str) -> None:
    url = scratch_url
    upgrade(url, "0017")
    a, b = workspace(url, "a"), workspace(url, "b")
    for i in range(20):
        contact(url, a, f"+1415000{i:04d}", None, None)
    contact(url, b, "+14159990000", None, None)
    sql(url, "UPDATE contacts SET firstname = 'Joanna', lastname = 'Silva' WHERE id <= 3")
    sql(url, "UPDATE contacts SET email = 'Ops@Example.COM', company = 'Acme' WHERE id = 4")

    upgrade(url, "0018")

    assert searched(url, a, "silva") == 3
    assert searched(url, a, "JOANNA S") == 3  # the full name, case-insensitively
    assert searched(url, a, "+1415000") == 20
    assert searched(url, a, "ops@example") == 1
    assert searched(url, a, "acme") == 1
    assert searched(url, b, "9990") == 1
    assert searched(url, a, "9990") == 0
    assert searched(url, a, "silva+1415") == 0  # never across two fields
    sql(url, "UPDATE contacts SET lastname = 'Costa' WHERE id = 1")
    sql(url, "UPDATE contacts SET company = 'Silva & Co' WHERE id = 5")
    sql(url, "UPDATE contacts SET email = NULL, company = NULL WHERE id = 4")
    sql(url, "DELETE FROM contacts WHERE id = 2")
    contact(url, a, "+14150001234", None, None)
    sql(url, "UPDATE contacts SET lastname = 'Silvano' WHERE phone = '+14150001234'")
    assert searched(url, a, "silva") == 3  # id 3, id 5's company, the new Silvano
    assert searched(url, a, "costa") == 1
    assert searched(url, a, "acme") == 0
    assert searched(url, a, "ops@") == 0
    if not url.startswith("sqlite"):
        (left,) = sql(url, "SELECT count(*) FROM contacts_search WHERE id = 2")
        assert left[0] == 0
        sql(url, "TRUNCATE contacts CASCADE")  # fires no DELETE trigger: its own empties it
        (left,) = sql(url, "SELECT count(*) FROM contacts_search")
        assert left[0] == 0
        contact(url, a, "+14150009999", None, None)
        assert searched(url, a, "9999") == 1
